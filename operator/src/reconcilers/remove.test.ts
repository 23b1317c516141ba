import {
  KubeClient,
  KubeObject,
  NAMESPACES,
  RESOURCE_QUOTAS,
} from '@paved/kube';
import { ReconcileContext } from './context';
import { deleteCached } from './remove';

/** A client that records DELETEs and answers them as `exists` says. */
function recordingClient(exists: (name: string) => boolean) {
  const deletes: string[] = [];
  const client = {
    delete: async (_type: unknown, name: string) => {
      deletes.push(name);
      return exists(name);
    },
  } as unknown as KubeClient;
  return { client, deletes };
}

/** A context whose only informer is of ResourceQuotas, holding `cached`. */
function context(client: KubeClient, cached: KubeObject[]): ReconcileContext {
  const byKey = new Map(
    cached.map(o => [`${o.metadata.namespace}/${o.metadata.name}`, o]),
  );
  const informers = {
    get: (type: { plural: string }) =>
      type.plural === RESOURCE_QUOTAS.plural ? {} : undefined,
    cached: (_type: unknown, name: string, namespace?: string) =>
      byKey.get(`${namespace}/${name}`),
  };
  return { client, informers } as unknown as ReconcileContext;
}

const quota = (name: string, deleting = false): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  metadata: {
    name,
    namespace: 'ns',
    ...(deleting ? { deletionTimestamp: '2026-12-02T00:00:00Z' } : {}),
  },
});

describe('deleteCached', () => {
  it('asks nothing for a child the cache does not hold', async () => {
    const { client, deletes } = recordingClient(() => true);
    const ctx = context(client, []);
    expect(await deleteCached(ctx, RESOURCE_QUOTAS, 'q', 'ns')).toBe('gone');
    expect(deletes).toEqual([]);
  });

  it('asks nothing again for a child already going', async () => {
    const { client, deletes } = recordingClient(() => true);
    const ctx = context(client, [quota('q', true)]);
    expect(await deleteCached(ctx, RESOURCE_QUOTAS, 'q', 'ns')).toBe('going');
    expect(deletes).toEqual([]);
  });

  it('deletes a cached child once it is asked to', async () => {
    const { client, deletes } = recordingClient(() => true);
    const ctx = context(client, [quota('q')]);
    expect(await deleteCached(ctx, RESOURCE_QUOTAS, 'q', 'ns')).toBe('going');
    expect(deletes).toEqual(['q']);
  });

  it('takes a 404 for gone (the cache was a moment behind)', async () => {
    const { client, deletes } = recordingClient(() => false);
    const ctx = context(client, [quota('q')]);
    expect(await deleteCached(ctx, RESOURCE_QUOTAS, 'q', 'ns')).toBe('gone');
    expect(deletes).toEqual(['q']);
  });

  it('sends the DELETE for a type this session does not watch', async () => {
    const { client, deletes } = recordingClient(name => name === 'there');
    const ctx = context(client, []);
    expect(await deleteCached(ctx, NAMESPACES, 'there')).toBe('going');
    expect(await deleteCached(ctx, NAMESPACES, 'missing')).toBe('gone');
    expect(deletes).toEqual(['there', 'missing']);
  });
});
