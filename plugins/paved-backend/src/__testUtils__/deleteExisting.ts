import { KubeClient, ResourceType } from '@paved/kube';

/**
 * Deletes an object that must exist (as a DELETE answered 404 would fail),
 * and waits until it is gone: a Tenant or App goes once its finalizer is
 * dropped (in the suites without an operator, by the finalizer stand-in),
 * and until then it is still there.
 */
export async function deleteExisting(
  admin: KubeClient,
  type: ResourceType,
  name: string,
  namespace?: string,
): Promise<void> {
  const uid = (await admin.tryGet(type, name, namespace))?.metadata.uid;
  if (!uid || !(await admin.delete(type, name, namespace))) {
    throw new Error(`${type.kind} ${namespace ?? ''}/${name} was not there`);
  }
  for (let i = 0; i < 200; i++) {
    const live = await admin.tryGet(type, name, namespace);
    if (!live || live.metadata.uid !== uid) return;
    await new Promise(resolve => setTimeout(resolve, 25));
  }
  throw new Error(
    `${type.kind} ${namespace ?? ''}/${name} was not deleted in 5 s`,
  );
}
