/**
 * A stand-in for the one part of the operator that the backend's suites
 * without an operator need: the backend applies Tenants and Apps with the
 * operator's finalizer, so with no operator running a deleted CR would wait
 * for it forever. This drops our finalizer from a Tenant or App once it is
 * being deleted, as the operator does after removing the children (there
 * are none here). It runs against the real API server, by watch.
 */
import {
  APPS,
  Informer,
  KubeClient,
  KubeObject,
  ResourceType,
  TENANTS,
} from '@paved/kube';
import { FINALIZER_APP, FINALIZER_TENANT } from '@paved/plugin-paved-common';

export interface FinalizerStandIn {
  stop(): Promise<void>;
}

export async function startFinalizerStandIn(
  client: KubeClient,
): Promise<FinalizerStandIn> {
  const informers: Informer<KubeObject>[] = [];
  const watch = (type: ResourceType, finalizer: string) => {
    const informer = new Informer<KubeObject>(client, { type });
    const release = async (object: KubeObject) => {
      const { metadata } = object;
      if (!metadata.deletionTimestamp) return;
      if (!metadata.finalizers?.includes(finalizer)) return;
      await client
        .mergePatch(type, metadata.name, metadata.namespace, {
          metadata: {
            finalizers: metadata.finalizers.filter(f => f !== finalizer),
            resourceVersion: metadata.resourceVersion,
          },
        })
        // Gone already, or changed meanwhile (409): a newer event brings
        // the changed one again.
        .catch(() => undefined);
    };
    informer.addHandlers({
      add: object => void release(object),
      update: (_old, object) => void release(object),
    });
    informers.push(informer);
  };
  watch(TENANTS, FINALIZER_TENANT);
  watch(APPS, FINALIZER_APP);
  for (const informer of informers) informer.start();
  await Promise.all(informers.map(i => i.waitForSync()));
  return {
    async stop() {
      await Promise.all(informers.map(i => i.stop()));
    },
  };
}
