/**
 * Who may act in the tenant's namespace: a Capsule Tenant when Capsule's CRD
 * is served, otherwise a RoleBinding. The other form is removed, so switching
 * (Capsule installed later) leaves no stale grant behind.
 */
import { TenantResource } from '@paved/plugin-paved-common';
import { CAPSULE_TENANTS, ROLE_BINDINGS } from '@paved/kube';
import { ConditionInput } from '../../desired/conditions';
import { namespaceName } from '../../desired/namespace';
import { OWNER_ROLE_BINDING } from '../../desired/names';
import {
  desiredCapsuleTenant,
  desiredOwnerRoleBinding,
  ownerGroup,
} from '../../desired/rbac';
import { applyChild } from '../apply';
import { cached, ReconcileContext } from '../context';

export async function reconcileRbac(
  ctx: ReconcileContext,
  tenant: TenantResource,
): Promise<ConditionInput> {
  const ns = namespaceName(tenant.metadata.name, ctx.config);
  const group = ownerGroup(tenant.spec.owner, ctx.config);
  if (ctx.features.capsule) {
    await applyChild(
      ctx.client,
      CAPSULE_TENANTS,
      desiredCapsuleTenant(tenant, ctx.config),
      cached(ctx.informers.capsuleTenants, tenant.metadata.name),
    );
    if (cached(ctx.informers.roleBindings, OWNER_ROLE_BINDING, ns)) {
      await ctx.client.delete(ROLE_BINDINGS, OWNER_ROLE_BINDING, ns);
    }
    return {
      type: 'RBACReady',
      status: 'True',
      reason: 'CapsuleTenant',
      message: `Group ${group} owns the namespace through Capsule tenant ${tenant.metadata.name}`,
      observedGeneration: tenant.metadata.generation,
    };
  }
  await applyChild(
    ctx.client,
    ROLE_BINDINGS,
    desiredOwnerRoleBinding(tenant, ctx.config),
    cached(ctx.informers.roleBindings, OWNER_ROLE_BINDING, ns),
  );
  return {
    type: 'RBACReady',
    status: 'True',
    reason: 'RoleBinding',
    message: `Group ${group} has ClusterRole ${ctx.config.ownerClusterRole} in ${ns}`,
    observedGeneration: tenant.metadata.generation,
  };
}

export async function deleteRbac(
  ctx: ReconcileContext,
  tenant: TenantResource,
): Promise<void> {
  const ns = namespaceName(tenant.metadata.name, ctx.config);
  if (ctx.features.capsule) {
    await ctx.client.delete(CAPSULE_TENANTS, tenant.metadata.name);
  }
  await ctx.client.delete(ROLE_BINDINGS, OWNER_ROLE_BINDING, ns);
}
