/** The tenant's ResourceQuota (by plan) and LimitRange (container defaults). */
import { LIMIT_RANGES, RESOURCE_QUOTAS } from '@paved/kube';
import { condition } from '../../desired/conditions';
import { namespaceName } from '../../desired/namespace';
import { LIMIT_RANGE, RESOURCE_QUOTA } from '../../desired/names';
import {
  desiredLimitRange,
  desiredResourceQuota,
  tenantLimits,
} from '../../desired/quota';
import { applyChild } from '../apply';
import { TenantChild } from '../children';
import { deleteCached } from '../remove';

/** How often at most a tenant's status follows its quota's usage. */
export const QUOTA_USAGE_BATCH_MS = 1000;

/** The plan's quota; an unknown plan throws `UnknownPlanError`. */
export const resourceQuotaChild: TenantChild = {
  name: 'resourceQuota',
  types: [
    {
      type: RESOURCE_QUOTAS,
      // Usage changes with every pod that starts or stops: the tenant's
      // status follows it at most once a second.
      updateDelayMs: () => QUOTA_USAGE_BATCH_MS,
    },
  ],
  desired: (ctx, tenant) => [desiredResourceQuota(tenant, ctx.config)],
  reconcile: async (ctx, tenant) => {
    const ns = namespaceName(tenant.metadata.name, ctx.config);
    const limits = tenantLimits(tenant, ctx.config);
    const [desired] = resourceQuotaChild.desired(ctx, tenant);
    const live = await applyChild(
      ctx.client,
      RESOURCE_QUOTAS,
      desired,
      ctx.informers.cached(RESOURCE_QUOTAS, RESOURCE_QUOTA, ns),
    );
    return {
      live,
      condition: condition(
        tenant,
        'QuotaReady',
        'True',
        'Applied',
        `Plan ${tenant.spec.plan}: cpu ${limits.cpu}, memory ${limits.memory}, ${limits.maxApps} apps`,
      ),
    };
  },
  remove: async (ctx, tenant) => {
    const ns = namespaceName(tenant.metadata.name, ctx.config);
    await deleteCached(ctx, RESOURCE_QUOTAS, RESOURCE_QUOTA, ns);
    return true;
  },
};

/** Per-container defaults; reported with the quota (no condition of its own). */
export const limitRangeChild: TenantChild = {
  name: 'limitRange',
  types: [{ type: LIMIT_RANGES }],
  desired: (ctx, tenant) => [desiredLimitRange(tenant, ctx.config)],
  reconcile: async (ctx, tenant) => {
    const ns = namespaceName(tenant.metadata.name, ctx.config);
    // No limits at all for a plan that does not exist (UnknownPlanError).
    tenantLimits(tenant, ctx.config);
    const [desired] = limitRangeChild.desired(ctx, tenant);
    const live = await applyChild(
      ctx.client,
      LIMIT_RANGES,
      desired,
      ctx.informers.cached(LIMIT_RANGES, LIMIT_RANGE, ns),
    );
    return { live };
  },
  remove: async (ctx, tenant) => {
    const ns = namespaceName(tenant.metadata.name, ctx.config);
    await deleteCached(ctx, LIMIT_RANGES, LIMIT_RANGE, ns);
    return true;
  },
};
