/** The tenant's namespace. */
import { LABEL_TENANT, TenantResource } from '@paved/plugin-paved-common';
import { isNotFound } from '@paved/kube';
import { NAMESPACES } from '@paved/kube';
import { ConditionInput } from '../../desired/conditions';
import { desiredNamespace, namespaceName } from '../../desired/namespace';
import { applyChild } from '../apply';
import { cached, ReconcileContext } from '../context';

export async function reconcileNamespace(
  ctx: ReconcileContext,
  tenant: TenantResource,
): Promise<ConditionInput> {
  const name = namespaceName(tenant.metadata.name, ctx.config);
  const current = cached(ctx.informers.namespaces, name);
  const generation = tenant.metadata.generation;
  if (current?.metadata.deletionTimestamp) {
    // A namespace that is terminating cannot be reused until it is gone.
    return {
      type: 'NamespaceReady',
      status: 'False',
      reason: 'Terminating',
      message: `Namespace ${name} is still being deleted; it is created again once it is gone`,
      observedGeneration: generation,
    };
  }
  const owner = current?.metadata.labels?.[LABEL_TENANT];
  if (current && owner !== undefined && owner !== tenant.metadata.name) {
    return {
      type: 'NamespaceReady',
      status: 'False',
      reason: 'NamespaceTaken',
      message: `Namespace ${name} belongs to tenant ${owner}`,
      observedGeneration: generation,
    };
  }
  await applyChild(
    ctx.client,
    NAMESPACES,
    desiredNamespace(tenant, ctx.config, { capsule: ctx.features.capsule }),
    current,
  );
  return {
    type: 'NamespaceReady',
    status: 'True',
    reason: 'Applied',
    message: `Namespace ${name} is in place`,
    observedGeneration: generation,
  };
}

/** Deletes the namespace; true once it is gone. */
export async function deleteNamespace(
  ctx: ReconcileContext,
  tenant: TenantResource,
): Promise<boolean> {
  const name = namespaceName(tenant.metadata.name, ctx.config);
  const live = await ctx.client.tryGet(NAMESPACES, name);
  if (!live) return true;
  if (!live.metadata.deletionTimestamp) {
    try {
      await ctx.client.delete(NAMESPACES, name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return (await ctx.client.tryGet(NAMESPACES, name)) === undefined;
}
