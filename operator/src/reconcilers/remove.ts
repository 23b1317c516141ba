/**
 * Deleting children with the informer cache as the guide. A child the cache
 * does not hold costs no request, and one already going is not asked again,
 * so an owner that waits for its children to go can look again as often as
 * it likes: the children's delete events wake it, and a pass that finds
 * nothing new to do sends nothing.
 */
import { KubeObject, ResourceType } from '@paved/kube';
import { ReconcileContext } from './context';

/**
 * Cached objects this process has sent a DELETE for. The informer replaces
 * its copy at each watch event, so an entry stands for "asked, and the
 * cache has not moved since": a pass that runs before the delete event
 * arrives sends no second DELETE (it would be answered 404). Weak: an
 * entry goes with the cached copy it stands for.
 */
const deleteSent = new WeakSet<KubeObject>();

/** `gone`: not there; `going`: asked to go (now or before), not gone yet. */
export type Removal = 'gone' | 'going';

/**
 * Deletes the child unless the cache shows it gone or already going. A type
 * this session does not watch has no cache to ask: the DELETE is sent (a
 * 404 means gone).
 */
export async function deleteCached(
  ctx: ReconcileContext,
  type: ResourceType,
  name: string,
  namespace?: string,
): Promise<Removal> {
  if (!ctx.informers.get(type)) {
    return (await ctx.client.delete(type, name, namespace)) ? 'going' : 'gone';
  }
  const cached: KubeObject | undefined = ctx.informers.cached(
    type,
    name,
    namespace,
  );
  if (!cached) return 'gone';
  if (cached.metadata.deletionTimestamp || deleteSent.has(cached)) {
    return 'going';
  }
  if (!(await ctx.client.delete(type, name, namespace))) return 'gone';
  deleteSent.add(cached);
  return 'going';
}
