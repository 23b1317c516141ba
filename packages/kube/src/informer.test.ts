import {
  eventually,
  TcpProxy,
  TestCluster,
  withServer,
} from '@paved/test-cluster';
import { KubeClient } from './client';
import { KubeObject, ResourceType, TENANTS } from './resources';
import { Informer } from './informer';
import { noopLogger } from './logger';
import { startControlPlane } from './__testUtils__/controlPlane';

const CONFIG_MAPS: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
};

jest.setTimeout(180_000);

describe('Informer against a real API server', () => {
  let handle: { cluster: TestCluster; client: KubeClient };
  const informers: Informer[] = [];
  let n = 0;

  beforeAll(async () => {
    const cluster = await startControlPlane();
    handle = {
      cluster,
      client: await KubeClient.fromKubeConfig(cluster.kubeConfig),
    };
  });
  afterEach(async () => {
    await Promise.all(informers.splice(0).map(i => i.stop()));
  });
  afterAll(async () => {
    handle?.client.close();
    await handle?.cluster.stop();
  });

  async function namespace(): Promise<string> {
    n += 1;
    const name = `informer-${n}`;
    await handle.client.create(
      {
        group: '',
        version: 'v1',
        plural: 'namespaces',
        kind: 'Namespace',
        namespaced: false,
      },
      { metadata: { name } },
    );
    return name;
  }

  /** A client that reaches the API server through a TCP proxy the test can cut. */
  async function throughProxy() {
    const target = new URL(handle.cluster.server);
    const proxy = new TcpProxy({
      host: target.hostname,
      port: Number(target.port),
    });
    const port = await proxy.start();
    const client = await KubeClient.fromKubeConfig(
      withServer(handle.cluster.kubeConfig, `https://127.0.0.1:${port}`),
    );
    return { proxy, client };
  }

  function configMap(ns: string, name: string, value = 'v') {
    return handle.client.apply(CONFIG_MAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: ns, labels: { test: ns } },
      data: { value },
    });
  }

  function track(client: KubeClient, ns: string, extra = {}) {
    const informer = new Informer(client, {
      type: CONFIG_MAPS,
      labelSelector: `test=${ns}`,
      initialBackoffMs: 50,
      maxBackoffMs: 500,
      ...extra,
    });
    const events: string[] = [];
    informer.addHandlers({
      add: o => events.push(`add ${o.metadata.name}`),
      update: (_o, o) =>
        events.push(`update ${o.metadata.name} ${(o as any).data?.value}`),
      delete: o => events.push(`delete ${o.metadata.name}`),
    });
    informers.push(informer);
    return { informer, events };
  }

  it('lists, then follows adds, updates and deletes', async () => {
    const ns = await namespace();
    await configMap(ns, 'before');
    const { informer, events } = track(handle.client, ns);
    informer.start();
    await informer.waitForSync();
    expect(informer.hasSynced).toBe(true);
    expect(informer.get(`${ns}/before`)).toBeDefined();

    await configMap(ns, 'after');
    await configMap(ns, 'before', 'changed');
    await handle.client.delete(CONFIG_MAPS, 'after', ns);
    await eventually('delete event', () => events.includes('delete after'));
    expect(events).toEqual([
      'add before',
      'add after',
      'update before changed',
      'delete after',
    ]);
    expect(informer.list(ns).map(o => o.metadata.name)).toEqual(['before']);
    expect(
      (informer.get(`${ns}/before`) as KubeObject & { data: any }).data.value,
    ).toBe('changed');
  });

  it('relists when its resourceVersion is too old (410 Gone)', async () => {
    // The Tenant CRD's watch cache starts at the resourceVersion at which the
    // CRD was installed, so resourceVersion 1 is older than anything it can
    // replay: the server answers 410 Gone and the informer must relist.
    const ns = await namespace();
    const tenant = (name: string) =>
      handle.client.apply(TENANTS, {
        apiVersion: 'paved.dev/v1alpha1',
        kind: 'Tenant',
        metadata: { name, labels: { test: ns } },
        spec: {
          displayName: name,
          owner: 'group:default/team-a',
          plan: 'free',
        },
      });
    await eventually('Tenant CRD served', () =>
      tenant(`${ns}-a`).then(() => true),
    );
    await tenant(`${ns}-b`);
    const informer = new Informer(handle.client, {
      type: TENANTS,
      labelSelector: `test=${ns}`,
      resumeFrom: '1',
      initialBackoffMs: 50,
    });
    informers.push(informer);
    const events: string[] = [];
    informer.addHandlers({ add: o => events.push(`add ${o.metadata.name}`) });
    informer.start();
    await eventually('relist after 410', () => informer.size === 2);
    expect(informer.stats.gone).toBeGreaterThanOrEqual(1);
    expect(informer.stats.lists).toBe(1);
    expect(events.sort()).toEqual([`add ${ns}-a`, `add ${ns}-b`]);
    await tenant(`${ns}-c`);
    await eventually('watch after relist', () =>
      events.includes(`add ${ns}-c`),
    );
  });

  it('reconnects after its connection drops and misses nothing', async () => {
    const ns = await namespace();
    const { proxy, client } = await throughProxy();
    try {
      const { informer, events } = track(client, ns);
      informer.start();
      await informer.waitForSync();
      await configMap(ns, 'one');
      await eventually('add one', () => events.includes('add one'));

      proxy.dropAll();
      // Changes made while the watch is down arrive after the reconnect.
      await configMap(ns, 'two');
      await handle.client.delete(CONFIG_MAPS, 'one', ns);
      await eventually(
        'events after reconnect',
        () => events.includes('add two') && events.includes('delete one'),
      );
      expect(informer.stats.errors + informer.stats.watches).toBeGreaterThan(1);
      expect(informer.list(ns).map(o => o.metadata.name)).toEqual(['two']);
    } finally {
      client.close();
      await proxy.stop();
    }
  });

  it('restarts a watch that goes silent', async () => {
    const ns = await namespace();
    const { proxy, client } = await throughProxy();
    try {
      const { informer, events } = track(client, ns, { stallTimeoutMs: 1000 });
      informer.start();
      await informer.waitForSync();
      proxy.freezeAll();
      await configMap(ns, 'while-frozen');
      await eventually('event after the stalled watch was restarted', () =>
        events.includes('add while-frozen'),
      );
      expect(informer.stats.errors).toBeGreaterThanOrEqual(1);
    } finally {
      client.close();
      await proxy.stop();
    }
  });

  it('survives a restart of the API server', async () => {
    const ns = await namespace();
    const { informer, events } = track(handle.client, ns);
    informer.start();
    await informer.waitForSync();
    await configMap(ns, 'before-restart');
    await eventually('add before-restart', () =>
      events.includes('add before-restart'),
    );
    await handle.cluster.restartApiServer();
    await eventually('API server back', () =>
      configMap(ns, 'after-restart').then(() => true),
    );
    await eventually('event after the restart', () =>
      events.includes('add after-restart'),
    );
    expect(informer.stats.errors + informer.stats.gone).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      informer
        .list(ns)
        .map(o => o.metadata.name)
        .sort(),
    ).toEqual(['after-restart', 'before-restart']);
  });

  it('starts each outage from the first backoff, not from the last outage', async () => {
    // Found by the fault harness: after one API server kill, the operator's
    // informers took 3.2 s, then 6.4 s to come back from the next ones.
    const ns = await namespace();
    const { proxy, client } = await throughProxy();
    const warnings: string[] = [];
    try {
      const { informer, events } = track(client, ns, {
        initialBackoffMs: 100,
        maxBackoffMs: 30_000,
        logger: { ...noopLogger, warn: (m: string) => warnings.push(m) },
      });
      informer.start();
      await informer.waitForSync();
      for (const round of [1, 2, 3]) {
        await eventually(`watch open (${round})`, () => proxy.connections > 0);
        const before = warnings.length;
        proxy.dropAll();
        await configMap(ns, `after-${round}`);
        await eventually(`event after drop ${round}`, () =>
          events.includes(`add after-${round}`),
        );
        // Each outage's first retry waits the first backoff.
        expect(warnings[before]).toMatch(/retrying in 100ms/);
      }
    } finally {
      client.close();
      await proxy.stop();
    }
  });

  it('hands every cached object to update handlers on resync', async () => {
    const ns = await namespace();
    await configMap(ns, 'r');
    const { informer, events } = track(handle.client, ns, { resyncMs: 200 });
    informer.start();
    await informer.waitForSync();
    await eventually(
      'two resyncs',
      () => events.filter(e => e === 'update r v').length >= 2,
    );
    // A resync replays the cache: no list or watch restart behind it.
    expect(informer.stats.lists).toBe(1);
    expect(informer.stats.watches).toBe(1);
  });
});
