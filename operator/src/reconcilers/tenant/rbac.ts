/**
 * Who may act in the tenant's namespace: a Capsule Tenant when Capsule's CRD
 * is served, otherwise a RoleBinding. The other form is removed, so switching
 * (Capsule installed later) leaves no stale grant behind.
 */
import { CAPSULE_TENANTS, ROLE_BINDINGS } from '@paved/kube';
import { condition } from '../../desired/conditions';
import { namespaceName } from '../../desired/namespace';
import { OWNER_ROLE_BINDING } from '../../desired/names';
import {
  desiredCapsuleTenant,
  desiredOwnerRoleBinding,
  ownerGroup,
} from '../../desired/rbac';
import { applyChild } from '../apply';
import { TenantChild } from '../children';
import { deleteCached } from '../remove';

export const rbacChild: TenantChild = {
  name: 'rbac',
  types: [{ type: CAPSULE_TENANTS }, { type: ROLE_BINDINGS }],
  desired: (ctx, tenant) => [
    ctx.features.capsule
      ? desiredCapsuleTenant(tenant, ctx.config)
      : desiredOwnerRoleBinding(tenant, ctx.config),
  ],
  reconcile: async (ctx, tenant) => {
    const ns = namespaceName(tenant.metadata.name, ctx.config);
    const group = ownerGroup(tenant.spec.owner, ctx.config);
    const [desired] = rbacChild.desired(ctx, tenant);
    const binding = ctx.informers.cached(ROLE_BINDINGS, OWNER_ROLE_BINDING, ns);
    if (ctx.features.capsule) {
      const live = await applyChild(
        ctx.client,
        CAPSULE_TENANTS,
        desired,
        ctx.informers.cached(CAPSULE_TENANTS, tenant.metadata.name),
      );
      if (binding) {
        await ctx.client.delete(ROLE_BINDINGS, OWNER_ROLE_BINDING, ns);
      }
      return {
        live,
        condition: condition(
          tenant,
          'RBACReady',
          'True',
          'CapsuleTenant',
          `Group ${group} owns the namespace through Capsule tenant ${tenant.metadata.name}`,
        ),
      };
    }
    const live = await applyChild(ctx.client, ROLE_BINDINGS, desired, binding);
    return {
      live,
      condition: condition(
        tenant,
        'RBACReady',
        'True',
        'RoleBinding',
        `Group ${group} has ClusterRole ${ctx.config.ownerClusterRole} in ${ns}`,
      ),
    };
  },
  remove: async (ctx, tenant) => {
    const ns = namespaceName(tenant.metadata.name, ctx.config);
    if (ctx.features.capsule) {
      await deleteCached(ctx, CAPSULE_TENANTS, tenant.metadata.name);
    }
    await deleteCached(ctx, ROLE_BINDINGS, OWNER_ROLE_BINDING, ns);
    return true;
  },
};
