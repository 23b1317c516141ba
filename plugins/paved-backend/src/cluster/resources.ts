/**
 * The custom resources the backend applies, computed as plain data from the
 * saved rows. Pure functions: tested without a cluster.
 */
import {
  ANNOTATION_REDEPLOY,
  APP_KIND,
  APP_PLURAL,
  PAVED_API_VERSION,
  PAVED_GROUP,
  PAVED_VERSION,
  PlanLimits,
  TENANT_KIND,
  TENANT_PLURAL,
  pavedLabels,
  tenantNamespace,
} from '@paved/plugin-paved-common';
import type { AppRecord, TenantRecord } from '../database/PavedStore';

/** Annotation with the backend's generation of the row the CR was applied from. */
export const ANNOTATION_BACKEND_GENERATION = 'paved.dev/backend-generation';

export const TENANTS_PATH = `/apis/${PAVED_GROUP}/${PAVED_VERSION}/${TENANT_PLURAL}`;
export const ALL_APPS_PATH = `/apis/${PAVED_GROUP}/${PAVED_VERSION}/${APP_PLURAL}`;

export function tenantPath(name: string) {
  return `${TENANTS_PATH}/${encodeURIComponent(name)}`;
}

export function appPath(namespace: string, name: string) {
  return `/apis/${PAVED_GROUP}/${PAVED_VERSION}/namespaces/${encodeURIComponent(
    namespace,
  )}/${APP_PLURAL}/${encodeURIComponent(name)}`;
}

export function secretPath(namespace: string, name: string) {
  return `/api/v1/namespaces/${encodeURIComponent(
    namespace,
  )}/secrets/${encodeURIComponent(name)}`;
}

/** The Secret that holds an app's secret env values. */
export function appSecretName(app: string) {
  return `${app}-paved-env`;
}

/**
 * The Tenant CR. `spec.limits` carries the resolved limits (plan plus
 * overrides), because the operator cannot see the plan catalogue in app-config.
 */
export function tenantResource(tenant: TenantRecord, limits: PlanLimits) {
  return {
    apiVersion: PAVED_API_VERSION,
    kind: TENANT_KIND,
    metadata: {
      name: tenant.name,
      labels: pavedLabels(tenant.name),
      annotations: {
        [ANNOTATION_BACKEND_GENERATION]: String(tenant.generation),
      },
    },
    spec: {
      displayName: tenant.displayName,
      owner: tenant.owner,
      plan: tenant.plan,
      limits: { ...limits },
      networkIsolation: tenant.networkIsolation,
    },
  };
}

export function appResource(app: AppRecord, namespacePrefix?: string) {
  const annotations: Record<string, string> = {
    [ANNOTATION_BACKEND_GENERATION]: String(app.generation),
  };
  if (app.redeployToken) annotations[ANNOTATION_REDEPLOY] = app.redeployToken;
  return {
    apiVersion: PAVED_API_VERSION,
    kind: APP_KIND,
    metadata: {
      name: app.name,
      namespace: tenantNamespace(app.tenant, namespacePrefix),
      labels: pavedLabels(app.tenant, app.name),
      annotations,
    },
    spec: app.spec,
  };
}

export function appSecretResource(
  app: AppRecord,
  values: Map<string, string>,
  namespacePrefix?: string,
) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: appSecretName(app.name),
      namespace: tenantNamespace(app.tenant, namespacePrefix),
      labels: pavedLabels(app.tenant, app.name),
    },
    type: 'Opaque',
    // `data`, not `stringData`: server-side apply tracks `data` keys, so a
    // removed key is removed from the Secret too.
    data: Object.fromEntries(
      [...values].map(([key, value]) => [
        key,
        Buffer.from(value, 'utf8').toString('base64'),
      ]),
    ),
  };
}
