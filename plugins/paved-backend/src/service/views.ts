/** Turns saved rows plus cached cluster status into the API's views. */
import {
  AppView,
  AuditEntryView,
  EnvVarView,
  Plan,
  RevisionView,
  SECRET_MASK,
  SyncView,
  TenantView,
  appRef,
  domainStatusOf,
  effectiveLimits,
  tenantNamespace,
} from '@paved/plugin-paved-common';
import type {
  AppRecord,
  AuditRecord,
  RevisionRecord,
  TenantRecord,
} from '../database/PavedStore';
import type { StatusCache } from '../cluster/StatusCache';
import { ANNOTATION_BACKEND_GENERATION } from '../cluster/resources';

export interface ViewContext {
  plans: () => Plan[];
  cache?: StatusCache;
  namespacePrefix?: string;
}

function syncView(record: {
  generation: number;
  appliedGeneration: number;
  lastError?: string;
}): SyncView {
  const pending = record.appliedGeneration < record.generation;
  return {
    generation: record.generation,
    appliedGeneration: record.appliedGeneration,
    pending,
    // Also when not pending: the last drift repair failed, or the tenant's
    // plan is no longer offered; the sync job says why until it is fixed.
    ...(record.lastError ? { lastError: record.lastError } : {}),
  };
}

export function tenantView(
  tenant: TenantRecord,
  appCount: number,
  ctx: ViewContext,
): TenantView {
  const plan = ctx.plans().find(p => p.name === tenant.plan);
  const cached = ctx.cache?.tenant(tenant.name) ?? { known: false };
  return {
    name: tenant.name,
    displayName: tenant.displayName,
    owner: tenant.owner,
    plan: tenant.plan,
    ...(tenant.limits ? { limits: tenant.limits } : {}),
    effectiveLimits: effectiveLimits(
      plan ?? { cpu: '0', memory: '0', maxApps: 0 },
      tenant.limits,
    ),
    networkIsolation: tenant.networkIsolation,
    namespace: tenantNamespace(tenant.name, ctx.namespacePrefix),
    appCount,
    createdAt: tenant.createdAt,
    updatedAt: tenant.updatedAt,
    createdBy: tenant.createdBy,
    sync: syncView(tenant),
    status: statusView(cached, tenant.generation),
  };
}

export function envView(spec: AppRecord['spec']): EnvVarView[] {
  return spec.env.map(entry =>
    entry.secretKeyRef
      ? { name: entry.name, value: SECRET_MASK, secret: true }
      : { name: entry.name, value: entry.value ?? '', secret: false },
  );
}

function configView(
  tenant: string,
  name: string,
  spec: AppRecord['spec'],
  ctx: ViewContext,
) {
  return {
    tenant,
    name,
    ref: appRef(tenant, name),
    namespace: tenantNamespace(tenant, ctx.namespacePrefix),
    image: spec.image,
    port: spec.port,
    env: envView(spec),
    scaling: spec.scaling,
    resources: spec.resources,
    domains: spec.domains,
    paused: spec.paused,
  };
}

/**
 * Cached status, with `known`, and `current: true` once it describes the
 * saved `generation`: the cached object was applied from it (a write's
 * answer can come before the watch brings the new object, and the old
 * one's Ready must not look like the new one's) and the operator has
 * observed that object's spec. Absent until then.
 */
function statusView<S extends { observedGeneration?: number }>(
  cached: {
    known: boolean;
    resource?: {
      metadata: {
        generation?: number;
        annotations?: Record<string, string>;
      };
      status?: S;
    };
  },
  generation: number,
) {
  const resource = cached.resource;
  const current =
    cached.known &&
    Number(resource?.metadata.annotations?.[ANNOTATION_BACKEND_GENERATION]) ===
      generation &&
    resource?.status?.observedGeneration !== undefined &&
    resource.status.observedGeneration === resource.metadata.generation;
  return {
    ...resource?.status,
    known: cached.known,
    ...(current ? { current: true } : {}),
  } as S & { known: boolean; current?: boolean };
}

export function appView(app: AppRecord, ctx: ViewContext): AppView {
  const namespace = tenantNamespace(app.tenant, ctx.namespacePrefix);
  const cached = ctx.cache?.app(namespace, app.name) ?? { known: false };
  const status = statusView(cached, app.generation);
  return {
    ...configView(app.tenant, app.name, app.spec, ctx),
    revision: app.revision,
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
    updatedBy: app.updatedBy,
    sync: syncView(app),
    status,
    // The cluster's word counts once it has seen this generation's spec.
    domainStatus: domainStatusOf(app.spec, status, Boolean(status.current)),
  };
}

export function revisionView(
  revision: RevisionRecord,
  ctx: ViewContext,
): RevisionView {
  return {
    revision: revision.revision,
    action: revision.action,
    actor: revision.actor,
    createdAt: revision.createdAt,
    image: revision.image,
    config: {
      ...configView(revision.tenant, revision.app, revision.spec, ctx),
      revision: revision.revision,
      updatedBy: revision.actor,
    },
  };
}

export function auditView(entry: AuditRecord): AuditEntryView {
  return { ...entry };
}
