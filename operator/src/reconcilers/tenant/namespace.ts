/** The tenant's namespace: the gate, the other children live in it. */
import { LABEL_TENANT, TenantResource } from '@paved/plugin-paved-common';
import { KubeObject, NAMESPACES } from '@paved/kube';
import { condition } from '../../desired/conditions';
import { desiredNamespace, namespaceName } from '../../desired/namespace';
import { applyChild } from '../apply';
import { ReconcileContext } from '../context';
import { TenantChild } from '../children';
import { deleteCached } from '../remove';

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

/**
 * Deletes the namespace; true once it is gone. While it terminates, the
 * cache answers (its delete event wakes the Tenant); once the cache says
 * gone, one read of the live namespace makes sure before the Tenant lets go
 * of it. A namespace another tenant (or nobody in Paved) holds is not ours
 * to delete: for this Tenant it is gone.
 */
async function deleteNamespace(
  ctx: ReconcileContext,
  tenant: TenantResource,
): Promise<boolean> {
  const name = namespaceName(tenant.metadata.name, ctx.config);
  const ours = (ns: KubeObject) =>
    ns.metadata.labels?.[LABEL_TENANT] === tenant.metadata.name;
  const cached = ctx.informers.cached(NAMESPACES, name);
  if (cached && !ours(cached)) return true;
  if ((await deleteCached(ctx, NAMESPACES, name)) === 'going') return false;
  const live = await ctx.client.tryGet(NAMESPACES, name);
  if (!live || !ours(live)) return true;
  // The cache has not seen it yet.
  if (!live.metadata.deletionTimestamp)
    await ctx.client.delete(NAMESPACES, name);
  return false;
}
