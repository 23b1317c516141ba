/**
 * The custom resources the backend applies, computed as plain data from the
 * saved rows. Pure functions: tested without a cluster.
 */
import {
  ANNOTATION_REDEPLOY,
  APP_KIND,
  FINALIZER_APP,
  FINALIZER_TENANT,
  LABEL_MANAGED_BY,
  MANAGED_BY_PAVED,
  PAVED_API_VERSION,
  PlanLimits,
  TENANT_KIND,
  pavedLabels,
  tenantNamespace,
  tlsSecretName,
} from '@paved/plugin-paved-common';
import type { AppRecord, TenantRecord } from '../database/PavedStore';

/** Annotation with the backend's generation of the row the CR was applied from. */
export const ANNOTATION_BACKEND_GENERATION = 'paved.dev/backend-generation';

/**
 * The label selector of what Paved made (its Secrets, in every namespace).
 * REST paths come from `@paved/kube`'s resource table (TENANTS, APPS,
 * SECRETS and `resourcePath`), not from here.
 */
export const PAVED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY_PAVED}`;

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
      // The operator's finalizer comes with the CR, so the operator need
      // not add it with a request of its own; the operator removes it.
      finalizers: [FINALIZER_TENANT],
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
      // As for the Tenant: the operator's finalizer, applied with the CR.
      finalizers: [FINALIZER_APP],
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

/** True when an object in the cluster carries Paved's managed-by label. */
export function isPavedObject(object: {
  metadata?: { labels?: Record<string, string> };
}) {
  return object.metadata?.labels?.[LABEL_MANAGED_BY] === MANAGED_BY_PAVED;
}

function isEmpty(value: unknown) {
  return (
    (Array.isArray(value) && value.length === 0) ||
    (value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.keys(value).length === 0)
  );
}

/**
 * True when `actual` (an object as the API server has it) holds everything
 * in `wanted` (what the backend would apply): every field the backend sets
 * has the backend's value. Fields only in `actual` (defaults, status, other
 * managers' fields) do not count, nor does an empty list or map that the
 * server left out: a server-side apply of `wanted` would change nothing.
 */
export function covers(actual: unknown, wanted: unknown): boolean {
  if (wanted === undefined) return true;
  if (Array.isArray(wanted)) {
    if (actual === undefined && wanted.length === 0) return true;
    return (
      Array.isArray(actual) &&
      actual.length === wanted.length &&
      wanted.every((item, i) => covers(actual[i], item))
    );
  }
  if (wanted !== null && typeof wanted === 'object') {
    if (actual === undefined && isEmpty(wanted)) return true;
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
      return false;
    return Object.entries(wanted).every(([key, value]) =>
      (actual as Record<string, unknown>)[key] === undefined
        ? value === undefined || isEmpty(value)
        : covers((actual as Record<string, unknown>)[key], value),
    );
  }
  return actual === wanted;
}

/**
 * True when a Tenant or App in the cluster has what the backend would apply
 * (its labels, annotations and spec); false means drift to repair.
 */
export function matchesDesired(
  actual: { metadata?: unknown; spec?: unknown } | undefined,
  desired: {
    metadata: { labels?: unknown; annotations?: unknown };
    spec: unknown;
  },
): boolean {
  if (!actual) return false;
  const wanted = JSON.parse(JSON.stringify(desired));
  const meta = (actual.metadata ?? {}) as Record<string, unknown>;
  return (
    covers(meta.labels, wanted.metadata.labels) &&
    covers(meta.annotations, wanted.metadata.annotations) &&
    covers(actual.spec, wanted.spec)
  );
}

/** The keys an app's Secret must hold: its env entries that reference it. */
export function secretKeysOf(app: AppRecord): string[] {
  const name = appSecretName(app.name);
  return app.spec.env
    .filter(entry => entry.secretKeyRef?.name === name)
    .map(entry => entry.secretKeyRef!.key);
}

/** The label on the kubernetes.io/tls Secrets Paved writes for custom domains. */
export const LABEL_TLS = 'paved.dev/tls';
/** The annotation with the domain a TLS Secret is for. */
export const ANNOTATION_DOMAIN = 'paved.dev/domain';

/**
 * A custom domain's certificate as a kubernetes.io/tls Secret in the tenant
 * namespace, for the DomainMapping's `spec.tls.secretName` (Knative hands
 * it to the ingress). Tenant owners can read it, only the platform writes it
 * (the owner role has no write on Secrets).
 */
export function tlsSecretResource(
  cert: {
    domain: string;
    tenant: string;
    app: string;
    certificate: string;
    privateKey: string;
  },
  namespacePrefix?: string,
) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: tlsSecretName(cert.domain),
      namespace: tenantNamespace(cert.tenant, namespacePrefix),
      labels: { ...pavedLabels(cert.tenant, cert.app), [LABEL_TLS]: 'true' },
      annotations: { [ANNOTATION_DOMAIN]: cert.domain },
    },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(cert.certificate, 'utf8').toString('base64'),
      'tls.key': Buffer.from(cert.privateKey, 'utf8').toString('base64'),
    },
  };
}
