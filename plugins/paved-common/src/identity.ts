/**
 * The names every part of Paved agrees on: API group, labels, finalizers,
 * field managers and how a tenant maps to its namespace. See DESIGN.md.
 */

export const PAVED_GROUP = 'paved.dev';
export const PAVED_VERSION = 'v1alpha1';
export const PAVED_API_VERSION = `${PAVED_GROUP}/${PAVED_VERSION}`;

export const TENANT_KIND = 'Tenant';
export const TENANT_PLURAL = 'tenants';
export const APP_KIND = 'App';
export const APP_PLURAL = 'apps';

/** Labels carried by every object Paved creates. */
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_PAVED = 'paved';
export const LABEL_TENANT = 'paved.dev/tenant';
export const LABEL_APP = 'paved.dev/app';
/** Lets Backstage's own Kubernetes plugin find an app's workloads. */
export const LABEL_BACKSTAGE_KUBERNETES_ID = 'backstage.io/kubernetes-id';

/** Catalog entity annotation that ties a Component to `<tenant>/<app>`. */
export const ANNOTATION_APP = 'paved.dev/app';

export const FINALIZER_TENANT = 'paved.dev/tenant-cleanup';
export const FINALIZER_APP = 'paved.dev/app-cleanup';

export const FIELD_MANAGER_BACKEND = 'paved-backend';
export const FIELD_MANAGER_OPERATOR = 'paved-operator';

export const DEFAULT_NAMESPACE_PREFIX = 'tenant-';

/** The namespace of a tenant: `tenant-<name>` unless the prefix is configured. */
export function tenantNamespace(
  tenant: string,
  prefix: string = DEFAULT_NAMESPACE_PREFIX,
): string {
  return `${prefix}${tenant}`;
}

/** Labels for an object that belongs to a tenant, and to one of its apps if given. */
export function pavedLabels(
  tenant: string,
  app?: string,
): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL_MANAGED_BY]: MANAGED_BY_PAVED,
    [LABEL_TENANT]: tenant,
  };
  if (app) {
    labels[LABEL_APP] = app;
    labels[LABEL_BACKSTAGE_KUBERNETES_ID] = app;
  }
  return labels;
}

/** The reference `<tenant>/<app>` used by the catalog and the API. */
export function appRef(tenant: string, app: string): string {
  return `${tenant}/${app}`;
}

/** Splits `<tenant>/<app>`; returns undefined when it is not of that form. */
export function parseAppRef(
  ref: string,
): { tenant: string; app: string } | undefined {
  const parts = ref.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    return undefined;
  }
  return { tenant: parts[0], app: parts[1] };
}

/** The catalog name of an app's Component entity: `<tenant>-<app>`. */
export function appEntityName(tenant: string, app: string): string {
  return `${tenant}-${app}`;
}

/** The catalog entity ref of an app's Component entity. */
export function appEntityRef(tenant: string, app: string): string {
  return `component:default/${appEntityName(tenant, app)}`;
}

/**
 * App annotation the backend sets on "redeploy"; the operator copies it into
 * the revision template, so a new revision rolls out with an unchanged spec.
 */
export const ANNOTATION_REDEPLOY = 'paved.dev/redeploy-token';
