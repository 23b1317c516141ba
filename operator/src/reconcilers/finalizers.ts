/**
 * Adding and removing our finalizer. The cached copy may be behind, so the
 * live object is read and the patch is guarded by its resourceVersion: a
 * finalizer someone else adds meanwhile is never dropped.
 */
import {
  isConflict,
  isNotFound,
  KubeClient,
  KubeObject,
  ResourceType,
} from '@paved/kube';

export async function addFinalizer(
  client: KubeClient,
  type: ResourceType,
  object: KubeObject,
  finalizer: string,
): Promise<KubeObject> {
  if (object.metadata.finalizers?.includes(finalizer)) return object;
  const patch = (base: KubeObject) =>
    client.mergePatch(type, base.metadata.name, base.metadata.namespace, {
      metadata: {
        finalizers: [...(base.metadata.finalizers ?? []), finalizer],
        resourceVersion: base.metadata.resourceVersion,
      },
    });
  try {
    // The cached copy is usually current: one request.
    return await patch(object);
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
  const live = await client.get(
    type,
    object.metadata.name,
    object.metadata.namespace,
  );
  if (live.metadata.finalizers?.includes(finalizer)) return live;
  return patch(live);
}

export async function removeFinalizer(
  client: KubeClient,
  type: ResourceType,
  object: KubeObject,
  finalizer: string,
): Promise<void> {
  const patch = (base: KubeObject) =>
    client.mergePatch(type, base.metadata.name, base.metadata.namespace, {
      metadata: {
        finalizers: (base.metadata.finalizers ?? []).filter(
          f => f !== finalizer,
        ),
        resourceVersion: base.metadata.resourceVersion,
      },
    });
  try {
    // The cached copy is usually current: one request.
    if (object.metadata.finalizers?.includes(finalizer)) {
      await patch(object);
      return;
    }
  } catch (error) {
    if (isNotFound(error)) return;
    if (!isConflict(error)) throw error;
  }
  const live = await client.tryGet(
    type,
    object.metadata.name,
    object.metadata.namespace,
  );
  if (!live?.metadata.finalizers?.includes(finalizer)) return;
  try {
    await patch(live);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
