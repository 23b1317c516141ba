/** The tenant's ResourceQuota (by plan) and LimitRange (container defaults). */
import { TenantResource } from '@paved/plugin-paved-common';
import { LIMIT_RANGES, RESOURCE_QUOTAS } from '@paved/kube';
import { ConditionInput } from '../../desired/conditions';
import { namespaceName } from '../../desired/namespace';
import { LIMIT_RANGE, RESOURCE_QUOTA } from '../../desired/names';
import {
  desiredLimitRange,
  desiredResourceQuota,
  tenantLimits,
} from '../../desired/quota';
import { applyChild } from '../apply';
import { cached, ReconcileContext } from '../context';

export async function reconcileQuota(
  ctx: ReconcileContext,
  tenant: TenantResource,
): Promise<ConditionInput> {
  const ns = namespaceName(tenant.metadata.name, ctx.config);
  const limits = tenantLimits(tenant, ctx.config);
  await Promise.all([
    applyChild(
      ctx.client,
      RESOURCE_QUOTAS,
      desiredResourceQuota(tenant, ctx.config),
      cached(ctx.informers.resourceQuotas, RESOURCE_QUOTA, ns),
    ),
    applyChild(
      ctx.client,
      LIMIT_RANGES,
      desiredLimitRange(tenant, ctx.config),
      cached(ctx.informers.limitRanges, LIMIT_RANGE, ns),
    ),
  ]);
  return {
    type: 'QuotaReady',
    status: 'True',
    reason: 'Applied',
    message: `Plan ${tenant.spec.plan}: cpu ${limits.cpu}, memory ${limits.memory}, ${limits.maxApps} apps`,
    observedGeneration: tenant.metadata.generation,
  };
}

export async function deleteQuota(
  ctx: ReconcileContext,
  tenant: TenantResource,
): Promise<void> {
  const ns = namespaceName(tenant.metadata.name, ctx.config);
  await ctx.client.delete(LIMIT_RANGES, LIMIT_RANGE, ns);
  await ctx.client.delete(RESOURCE_QUOTAS, RESOURCE_QUOTA, ns);
}
