/** The tenant's namespace: the gate, the other children live in it. */
import { LABEL_TENANT, TenantResource } from '@paved/plugin-paved-common';
import { isNotFound, NAMESPACES } from '@paved/kube';
import { condition } from '../../desired/conditions';
import { desiredNamespace, namespaceName } from '../../desired/namespace';
import { applyChild } from '../apply';
import { ReconcileContext } from '../context';
import { TenantChild } from '../children';

export const namespaceChild: TenantChild = {
  name: 'namespace',
  types: [{ type: NAMESPACES }],
  gate: true,
  desired: (ctx, tenant) => [
    desiredNamespace(tenant, ctx.config, { capsule: ctx.features.capsule }),
  ],
  reconcile: async (ctx, tenant) => {
    const name = namespaceName(tenant.metadata.name, ctx.config);
    const current = ctx.informers.cached(NAMESPACES, name);
    if (current?.metadata.deletionTimestamp) {
      // A namespace that is terminating cannot be reused until it is gone.
      return {
        condition: condition(
          tenant,
          'NamespaceReady',
          'False',
          'Terminating',
          `Namespace ${name} is still being deleted; it is created again once it is gone`,
        ),
      };
    }
    const owner = current?.metadata.labels?.[LABEL_TENANT];
    if (current && owner !== undefined && owner !== tenant.metadata.name) {
      return {
        condition: condition(
          tenant,
          'NamespaceReady',
          'False',
          'NamespaceTaken',
          `Namespace ${name} belongs to tenant ${owner}`,
        ),
      };
    }
    const [desired] = namespaceChild.desired(ctx, tenant);
    const live = await applyChild(ctx.client, NAMESPACES, desired, current);
    return {
      live,
      condition: condition(
        tenant,
        'NamespaceReady',
        'True',
        'Applied',
        `Namespace ${name} is in place`,
      ),
    };
  },
  remove: (ctx, tenant) => deleteNamespace(ctx, tenant),
};

/** Deletes the namespace; true once it is gone. */
async function deleteNamespace(
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
