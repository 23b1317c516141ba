/**
 * Network isolation: a CiliumNetworkPolicy when Cilium's CRD is served,
 * otherwise a NetworkPolicy; none when the tenant turned isolation off.
 */
import { CILIUM_NETWORK_POLICIES, NETWORK_POLICIES } from '@paved/kube';
import { condition } from '../../desired/conditions';
import { namespaceName } from '../../desired/namespace';
import { ISOLATION_POLICY } from '../../desired/names';
import {
  desiredCiliumNetworkPolicy,
  desiredNetworkPolicy,
} from '../../desired/networkPolicy';
import { applyChild } from '../apply';
import { TenantChild } from '../children';
import { deleteCached } from '../remove';

export const networkPolicyChild: TenantChild = {
  name: 'networkPolicy',
  types: [{ type: CILIUM_NETWORK_POLICIES }, { type: NETWORK_POLICIES }],
  desired: (ctx, tenant) => {
    if (!tenant.spec.networkIsolation) return [];
    return [
      ctx.features.cilium
        ? desiredCiliumNetworkPolicy(tenant, ctx.config)
        : desiredNetworkPolicy(tenant, ctx.config),
    ];
  },
  reconcile: async (ctx, tenant) => {
    const ns = namespaceName(tenant.metadata.name, ctx.config);
    const cilium = ctx.features.cilium;
    const plainCached = ctx.informers.cached(
      NETWORK_POLICIES,
      ISOLATION_POLICY,
      ns,
    );
    const ciliumCached = ctx.informers.cached(
      CILIUM_NETWORK_POLICIES,
      ISOLATION_POLICY,
      ns,
    );
    const [desired] = networkPolicyChild.desired(ctx, tenant);
    if (!desired) {
      if (plainCached)
        await ctx.client.delete(NETWORK_POLICIES, ISOLATION_POLICY, ns);
      if (ciliumCached)
        await ctx.client.delete(CILIUM_NETWORK_POLICIES, ISOLATION_POLICY, ns);
      return {
        condition: condition(
          tenant,
          'NetworkPolicyReady',
          'True',
          'IsolationDisabled',
          'Network isolation is turned off for this tenant',
        ),
      };
    }
    let live;
    if (cilium) {
      live = await applyChild(
        ctx.client,
        CILIUM_NETWORK_POLICIES,
        desired,
        ciliumCached,
      );
      if (plainCached)
        await ctx.client.delete(NETWORK_POLICIES, ISOLATION_POLICY, ns);
    } else {
      live = await applyChild(
        ctx.client,
        NETWORK_POLICIES,
        desired,
        plainCached,
      );
    }
    const kind = cilium ? 'CiliumNetworkPolicy' : 'NetworkPolicy';
    return {
      live,
      condition: condition(
        tenant,
        'NetworkPolicyReady',
        'True',
        kind,
        `Namespace ${ns} is isolated by a ${kind}`,
      ),
    };
  },
  remove: async (ctx, tenant) => {
    const ns = namespaceName(tenant.metadata.name, ctx.config);
    if (ctx.features.cilium) {
      await deleteCached(ctx, CILIUM_NETWORK_POLICIES, ISOLATION_POLICY, ns);
    }
    await deleteCached(ctx, NETWORK_POLICIES, ISOLATION_POLICY, ns);
    return true;
  },
};
