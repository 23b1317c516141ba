import {
  KubeClient,
  KubeObject,
  NAMESPACES,
  RESOURCE_QUOTAS,
} from '@paved/kube';
import { LABEL_TENANT, TenantResource } from '@paved/plugin-paved-common';
import { DEFAULT_DESIRED_STATE_CONFIG } from '../desired/config';
import { ReconcileContext } from './context';
import { deleteCached } from './remove';
import { namespaceChild } from './tenant/namespace';

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

  it('sends no second DELETE while the cache still holds the copy it deleted', async () => {
    const { client, deletes } = recordingClient(() => true);
    const cached = quota('q');
    const ctx = context(client, [cached]);
    expect(await deleteCached(ctx, RESOURCE_QUOTAS, 'q', 'ns')).toBe('going');
    // The delete event has not arrived: the same copy is cached.
    expect(await deleteCached(ctx, RESOURCE_QUOTAS, 'q', 'ns')).toBe('going');
    expect(deletes).toEqual(['q']);
    // A newer copy (a watch event since; the object was made again, say) is
    // asked again.
    const newer = context(client, [
      { ...cached, metadata: { ...cached.metadata } },
    ]);
    expect(await deleteCached(newer, RESOURCE_QUOTAS, 'q', 'ns')).toBe('going');
    expect(deletes).toEqual(['q', 'q']);
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

describe("the namespace child's removal", () => {
  const tenant = {
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'Tenant',
    metadata: { name: 'alpha' },
    spec: {},
  } as unknown as TenantResource;
  const namespace = (owner: string, deleting = false): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'tenant-alpha',
      labels: { [LABEL_TENANT]: owner },
      ...(deleting ? { deletionTimestamp: '2026-12-02T00:00:00Z' } : {}),
    },
  });
  /** The cache holds `cached`; the server has `live`. */
  function setup(cached?: KubeObject, live?: KubeObject) {
    const requests: string[] = [];
    const client = {
      delete: async () => {
        requests.push('DELETE');
        return live !== undefined;
      },
      tryGet: async () => {
        requests.push('GET');
        return live;
      },
    } as unknown as KubeClient;
    const ctx = {
      client,
      config: DEFAULT_DESIRED_STATE_CONFIG,
      informers: {
        get: () => ({}),
        cached: () => cached,
      },
    } as unknown as ReconcileContext;
    return { ctx, requests };
  }

  it('deletes its own namespace once and waits for it to go', async () => {
    const ours = namespace('alpha');
    const first = setup(ours, ours);
    expect(await namespaceChild.remove(first.ctx, tenant)).toBe(false);
    expect(first.requests).toEqual(['DELETE']);
    const terminating = namespace('alpha', true);
    const waiting = setup(terminating, terminating);
    expect(await namespaceChild.remove(waiting.ctx, tenant)).toBe(false);
    expect(waiting.requests).toEqual([]);
  });

  it('makes sure with one read once the cache says gone', async () => {
    const gone = setup(undefined, undefined);
    expect(await namespaceChild.remove(gone.ctx, tenant)).toBe(true);
    expect(gone.requests).toEqual(['GET']);
    // The cache has not seen it yet: delete it all the same.
    const behind = setup(undefined, namespace('alpha'));
    expect(await namespaceChild.remove(behind.ctx, tenant)).toBe(false);
    expect(behind.requests).toEqual(['GET', 'DELETE']);
  });

  it('never deletes a namespace another tenant holds', async () => {
    const taken = namespace('beta');
    const cached = setup(taken, taken);
    expect(await namespaceChild.remove(cached.ctx, tenant)).toBe(true);
    expect(cached.requests).toEqual([]);
    const live = setup(undefined, taken);
    expect(await namespaceChild.remove(live.ctx, tenant)).toBe(true);
    expect(live.requests).toEqual(['GET']);
  });
});
