/**
 * Network isolation: a CiliumNetworkPolicy when Cilium's CRD is served,
 * otherwise a NetworkPolicy; none when the tenant turned isolation off.
 */
import { TenantResource } from '@paved/plugin-paved-common';
import { CILIUM_NETWORK_POLICIES, NETWORK_POLICIES } from '@paved/kube';
import { ConditionInput } from '../../desired/conditions';
import { namespaceName } from '../../desired/namespace';
import { ISOLATION_POLICY } from '../../desired/names';
import {
  desiredCiliumNetworkPolicy,
  desiredNetworkPolicy,
} from '../../desired/networkPolicy';
import { applyChild } from '../apply';
import { cached, ReconcileContext } from '../context';

export async function reconcileNetworkPolicy(
  ctx: ReconcileContext,
  tenant: TenantResource,
): Promise<ConditionInput> {
  const ns = namespaceName(tenant.metadata.name, ctx.config);
  const generation = tenant.metadata.generation;
  const cilium = ctx.features.cilium;
  const plainCached = cached(
    ctx.informers.networkPolicies,
    ISOLATION_POLICY,
    ns,
  );
  const ciliumCached = cached(
    ctx.informers.ciliumNetworkPolicies,
    ISOLATION_POLICY,
    ns,
  );
  if (!tenant.spec.networkIsolation) {
    if (plainCached)
      await ctx.client.delete(NETWORK_POLICIES, ISOLATION_POLICY, ns);
    if (ciliumCached)
      await ctx.client.delete(CILIUM_NETWORK_POLICIES, ISOLATION_POLICY, ns);
    return {
      type: 'NetworkPolicyReady',
      status: 'True',
      reason: 'IsolationDisabled',
      message: 'Network isolation is turned off for this tenant',
      observedGeneration: generation,
    };
  }
  if (cilium) {
    await applyChild(
      ctx.client,
      CILIUM_NETWORK_POLICIES,
      desiredCiliumNetworkPolicy(tenant, ctx.config),
      ciliumCached,
    );
    if (plainCached)
      await ctx.client.delete(NETWORK_POLICIES, ISOLATION_POLICY, ns);
  } else {
    await applyChild(
      ctx.client,
      NETWORK_POLICIES,
      desiredNetworkPolicy(tenant, ctx.config),
      plainCached,
    );
  }
  return {
    type: 'NetworkPolicyReady',
    status: 'True',
    reason: cilium ? 'CiliumNetworkPolicy' : 'NetworkPolicy',
    message: `Namespace ${ns} is isolated by a ${
      cilium ? 'CiliumNetworkPolicy' : 'NetworkPolicy'
    }`,
    observedGeneration: generation,
  };
}

export async function deleteNetworkPolicy(
  ctx: ReconcileContext,
  tenant: TenantResource,
): Promise<void> {
  const ns = namespaceName(tenant.metadata.name, ctx.config);
  if (ctx.features.cilium) {
    await ctx.client.delete(CILIUM_NETWORK_POLICIES, ISOLATION_POLICY, ns);
  }
  await ctx.client.delete(NETWORK_POLICIES, ISOLATION_POLICY, ns);
}
