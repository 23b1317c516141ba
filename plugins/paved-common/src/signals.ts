/**
 * The Backstage signals channels Paved's backend publishes status changes
 * on, and what each message says. A message is a hint to read again through
 * the API (which applies the permissions), never the data itself; it goes
 * only to the tenant's owner group and the platform admins.
 */

/** Changes of one app: its App's status, generation, or its deletion. */
export function appSignalChannel(tenant: string, app: string): string {
  return `paved:app:${tenant}:${app}`;
}

/** Changes of one tenant, and of every app in it. */
export function tenantSignalChannel(tenant: string): string {
  return `paved:tenant:${tenant}`;
}

/** Changes of any tenant the recipient may see (the tenants list). */
export const TENANTS_SIGNAL_CHANNEL = 'paved:tenants';

/** The message of every Paved channel. */
export type PavedStatusSignal = {
  kind: 'tenant' | 'app';
  tenant: string;
  /** The app, for `kind: 'app'`. */
  app?: string;
};
