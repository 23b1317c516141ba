/**
 * What a service token may do in Paved. Backstage lets every service
 * principal through its permission framework (limited only by the token's
 * `accessRestrictions`, which name permissions, not tenants), so without
 * this a CI token could act on every team's tenant. Paved refuses service
 * tokens it has no scope for: each is listed in `paved.serviceAccess` with
 * the tenants it may act on and the actions it may take there. A scope with
 * `tenants: ['*']` is an admin credential: every tenant, and the platform
 * permissions (limits, isolation, plans) where its access restrictions
 * allow them.
 */
import type { Config } from '@backstage/config';

export const SERVICE_ACTIONS = ['read', 'create', 'update', 'delete'] as const;
export type ServiceAction = (typeof SERVICE_ACTIONS)[number];

export interface ServiceScope {
  /** The service principal's subject: a static token's `subject`, or `plugin:<id>`. */
  subject: string;
  /** Tenant names, or `'*'` for all (an admin credential). */
  tenants: string[] | '*';
  actions: ServiceAction[];
}

/** Backstage's catalog reads the apps for Paved's entity provider. */
export const BUILT_IN_SERVICE_ACCESS: ServiceScope[] = [
  { subject: 'plugin:catalog', tenants: '*', actions: ['read'] },
];

export function readServiceAccess(config: Config): ServiceScope[] {
  const entries = config.getOptionalConfigArray('paved.serviceAccess') ?? [];
  const scopes = entries.map(entry => {
    const subject = entry.getString('subject');
    const tenants = entry.getStringArray('tenants');
    const actions = entry.getOptionalStringArray('actions') ?? [
      ...SERVICE_ACTIONS,
    ];
    const unknown = actions.find(
      a => !(SERVICE_ACTIONS as readonly string[]).includes(a),
    );
    if (unknown) {
      throw new Error(
        `paved.serviceAccess: "${unknown}" (subject ${subject}) is not an action; use ${SERVICE_ACTIONS.join(
          ', ',
        )}`,
      );
    }
    return {
      subject,
      tenants: tenants.includes('*') ? '*' : tenants,
      actions: actions as ServiceAction[],
    } satisfies ServiceScope;
  });
  const configured = new Set(scopes.map(s => s.subject));
  return [
    ...scopes,
    ...BUILT_IN_SERVICE_ACCESS.filter(s => !configured.has(s.subject)),
  ];
}
