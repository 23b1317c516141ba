/**
 * The backend against a real kube-apiserver (packages/test-cluster): custom
 * resources by server-side apply, status from the watch-fed cache, and no
 * drift when the API server is unreachable for a while.
 *
 * No operator runs here. Where a test needs what the operator would do (the
 * tenant namespace, an App status), helpers named `asOperator…` do it.
 */
import { eventually, useTestCluster } from '@paved/test-cluster';
import {
  FIELD_MANAGER_BACKEND,
  PAVED_API_VERSION,
  SECRET_MASK,
  appSpecSchema,
  resolvePlans,
} from '@paved/plugin-paved-common';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import {
  ALICE,
  PavedTestBackend,
  ROOT,
  TEAM_A,
  startPavedBackend,
} from '../testUtils/backend';
import { ApiServerProxy } from '../__testUtils__/proxy';
import {
  APPS,
  EVENTS,
  KubeClient,
  NAMESPACES,
  ResourceType,
  SECRETS,
  TENANTS,
} from '@paved/kube';
import { StatusCache } from './StatusCache';
import { ClusterSync } from './ClusterSync';
import { DatabasePavedStore } from '../database/DatabasePavedStore';
import { Knex } from 'knex';
import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  FinalizerStandIn,
  startFinalizerStandIn,
} from '../testUtils/finalizerStandIn';
import { deleteExisting as deleteExistingIn } from '../__testUtils__/deleteExisting';

jest.setTimeout(300_000);

const cluster = useTestCluster({
  knative: false,
  capsule: false,
  cilium: false,
});
const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

let admin: KubeClient;

let finalizers: FinalizerStandIn | undefined;
let proxy: ApiServerProxy;
let backend: PavedTestBackend;
let knex: Knex;
const PLANS = { tiny: { cpu: '2', memory: '2Gi', maxApps: 5 } };
let kubeconfigDir: string;

const deleteExisting = (type: ResourceType, name: string, namespace?: string) =>
  deleteExistingIn(admin, type, name, namespace);

/** What the operator would do first for a tenant: create its namespace. */
async function asOperatorCreateNamespace(tenant: string) {
  await admin.create(NAMESPACES, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: `tenant-${tenant}` },
  });
}

/** What the operator would write into an App's status once Knative is ready. */
async function asOperatorWriteAppStatus(
  tenant: string,
  app: string,
  status: Record<string, unknown>,
) {
  await admin.mergePatch(APPS, app, `tenant-${tenant}`, { status }, 'status');
}

beforeAll(async () => {
  const kc = cluster().kubeConfig;
  admin = await KubeClient.fromKubeConfig(kc);
  // No operator runs here: deleted CRs lose its finalizer.
  finalizers = await startFinalizerStandIn(admin);
  const target = new URL(cluster().server);
  proxy = new ApiServerProxy({
    host: target.hostname,
    port: Number(target.port),
  });
  await proxy.up();
  const exported = JSON.parse(kc.exportConfig());
  for (const entry of exported.clusters) {
    entry.cluster.server = `https://127.0.0.1:${proxy.port}`;
  }
  kubeconfigDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paved-backend-'));
  const kubeconfigPath = path.join(kubeconfigDir, 'kubeconfig');
  fs.writeFileSync(kubeconfigPath, JSON.stringify(exported));

  knex = await databases.init('SQLITE_3');
  backend = await startPavedBackend({
    knex,
    config: {
      paved: {
        kubernetes: { kubeconfig: kubeconfigPath },
        plans: PLANS,
      },
    },
  });
});

afterAll(async () => {
  await finalizers?.stop();
  await backend?.stop();
  await proxy?.down();
  if (kubeconfigDir) fs.rmSync(kubeconfigDir, { recursive: true, force: true });
});

const api = () => backend.request;

describe('Paved backend on a real API server', () => {
  it('applies a Tenant with the resolved plan limits, by server-side apply', async () => {
    // The platform team creates it: overriding limits is theirs.
    const res = await api()
      .post('/api/paved/tenants')
      .set('authorization', backend.as(ROOT))
      .send({
        name: 'acme',
        displayName: 'Acme',
        owner: TEAM_A,
        plan: 'tiny',
        limits: { cpu: '3' },
      });
    expect(res.status).toBe(201);
    // Usually applied before the answer; on a loaded machine, soon after.
    const synced = await eventually('tenant applied', async () => {
      const view = await api()
        .get('/api/paved/tenants/acme')
        .set('authorization', backend.as(ALICE));
      return !view.body.sync.pending && view.body;
    });
    expect(synced.sync).toEqual({
      generation: 1,
      appliedGeneration: 1,
      pending: false,
    });
    const tenant = await admin.get<any>(TENANTS, 'acme');
    expect(tenant.apiVersion).toBe(PAVED_API_VERSION);
    expect(tenant.spec).toEqual({
      displayName: 'Acme',
      owner: TEAM_A,
      plan: 'tiny',
      limits: { cpu: '3', memory: '2Gi', maxApps: 5 },
      networkIsolation: true,
    });
    expect(tenant.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'paved',
      'paved.dev/tenant': 'acme',
    });
    expect(tenant.metadata.managedFields.map((f: any) => f.manager)).toContain(
      FIELD_MANAGER_BACKEND,
    );

    // The status cache sees the Tenant through its watch.
    const seen = await eventually('tenant status known', async () => {
      const view = await api()
        .get('/api/paved/tenants/acme')
        .set('authorization', backend.as(ALICE));
      return view.body.status.known && view.body;
    });
    expect(seen.status).toEqual({ known: true });
  });

  it('applies an App and its Secret once the namespace exists, and shows the status the operator writes', async () => {
    const deploy = await api()
      .put('/api/paved/tenants/acme/apps/web')
      .set('authorization', backend.as(ALICE))
      .send({
        image: 'ghcr.io/acme/web:1.0.0',
        port: 8080,
        env: [
          { name: 'MODE', value: 'prod' },
          { name: 'TOKEN', value: 'hunter2', secret: true },
        ],
      });
    expect(deploy.status).toBe(201);
    // No namespace yet (no operator): the write is saved and waits.
    expect(deploy.body.sync.pending).toBe(true);
    const waiting = await eventually('the apply error', async () => {
      const res = await api()
        .get('/api/paved/tenants/acme/apps/web')
        .set('authorization', backend.as(ALICE));
      return res.body.sync.lastError && res.body;
    });
    // The request, the status and the API server's words (the Secret is
    // applied before the App).
    expect(waiting.sync.lastError).toBe(
      'PATCH /api/v1/namespaces/tenant-acme/secrets/web-paved-env?fieldManager=paved-backend&force=true: 404 namespaces "tenant-acme" not found',
    );

    await asOperatorCreateNamespace('acme');
    // The sync job (every second here) applies it now.
    const app = await eventually('App CR', () =>
      admin.tryGet<any>(APPS, 'web', 'tenant-acme'),
    );
    expect(app.spec).toMatchObject({
      image: 'ghcr.io/acme/web:1.0.0',
      port: 8080,
      env: [
        { name: 'MODE', value: 'prod' },
        {
          name: 'TOKEN',
          secretKeyRef: { name: 'web-paved-env', key: 'TOKEN' },
        },
      ],
    });
    expect(app.metadata.labels).toMatchObject({
      'paved.dev/tenant': 'acme',
      'paved.dev/app': 'web',
      'backstage.io/kubernetes-id': 'web',
    });
    const secret = await admin.get<any>(
      SECRETS,
      'web-paved-env',
      'tenant-acme',
    );
    expect(Buffer.from(secret.data.TOKEN, 'base64').toString()).toBe('hunter2');

    await asOperatorWriteAppStatus('acme', 'web', {
      phase: 'Ready',
      url: 'https://web.acme.example.com',
      instances: { desired: 0, ready: 0 },
    });
    const view = await eventually('app status', async () => {
      const res = await api()
        .get('/api/paved/tenants/acme/apps/web')
        .set('authorization', backend.as(ALICE));
      return res.body.status.url && res.body;
    });
    expect(view).toMatchObject({
      sync: { pending: false, generation: 1, appliedGeneration: 1 },
      status: {
        known: true,
        phase: 'Ready',
        url: 'https://web.acme.example.com',
      },
      env: [
        { name: 'MODE', value: 'prod', secret: false },
        { name: 'TOKEN', value: SECRET_MASK, secret: true },
      ],
    });

    // Removing the last secret env var removes the Secret.
    const patched = await api()
      .patch('/api/paved/tenants/acme/apps/web/env')
      .set('authorization', backend.as(ALICE))
      .send({ remove: ['TOKEN'] });
    expect(patched.status).toBe(200);
    await eventually(
      'Secret deleted',
      async () =>
        !(await admin.tryGet<any>(SECRETS, 'web-paved-env', 'tenant-acme')),
    );
    const cr = await admin.get<any>(APPS, 'web', 'tenant-acme');
    expect(cr.spec.env).toEqual([{ name: 'MODE', value: 'prod' }]);
  });

  it('loses nothing while the API server is unreachable: the sync job applies it afterwards', async () => {
    await api()
      .put('/api/paved/tenants/acme/apps/doomed')
      .set('authorization', backend.as(ALICE))
      .send({ image: 'doomed:1' });
    await eventually('doomed applied', () =>
      admin.tryGet<any>(APPS, 'doomed', 'tenant-acme'),
    );

    await proxy.down();
    const update = await api()
      .put('/api/paved/tenants/acme/apps/web')
      .set('authorization', backend.as(ALICE))
      .send({ image: 'ghcr.io/acme/web:2.0.0', expectedGeneration: 2 });
    expect(update.status).toBe(200);
    expect(update.body.sync).toMatchObject({
      generation: 3,
      appliedGeneration: 2,
      pending: true,
    });
    const removed = await api()
      .delete('/api/paved/tenants/acme/apps/doomed')
      .set('authorization', backend.as(ALICE));
    expect(removed.status).toBe(202);

    // Reads still answer from the database, with status unknown once the
    // watch has noticed.
    const offline = await eventually('status unknown', async () => {
      const res = await api()
        .get('/api/paved/tenants/acme/apps/web')
        .set('authorization', backend.as(ALICE));
      return res.status === 200 && !res.body.status.known && res.body;
    });
    expect(offline.image).toBe('ghcr.io/acme/web:2.0.0');
    // The cluster still has the old spec.
    expect((await admin.get<any>(APPS, 'web', 'tenant-acme')).spec.image).toBe(
      'ghcr.io/acme/web:1.0.0',
    );

    await proxy.up();
    await eventually('update applied', async () => {
      const cr = await admin.get<any>(APPS, 'web', 'tenant-acme');
      return cr.spec.image === 'ghcr.io/acme/web:2.0.0';
    });
    await eventually(
      'deletion applied',
      async () => !(await admin.tryGet<any>(APPS, 'doomed', 'tenant-acme')),
    );
    const back = await eventually('in sync again', async () => {
      const res = await api()
        .get('/api/paved/tenants/acme/apps/web')
        .set('authorization', backend.as(ALICE));
      return !res.body.sync.pending && res.body.status.known && res.body;
    });
    expect(back.sync).toEqual({
      generation: 3,
      appliedGeneration: 3,
      pending: false,
    });
  });

  it('retries a write the API server refused within seconds, not at the next scheduled sync', async () => {
    // Found by the fault harness: an update acknowledged while
    // kube-apiserver restarted reached the cluster only with the scheduled
    // sync. This backend's sync runs once an hour (after its first run), so
    // only the retry (BehindRetry) can bring it.
    const hourly = await startPavedBackend({
      knex: await databases.init('SQLITE_3'),
      config: {
        paved: {
          kubernetes: { kubeconfig: path.join(kubeconfigDir, 'kubeconfig') },
          plans: PLANS,
          sync: { frequencySeconds: 3600 },
        },
      },
    });
    let down = false;
    try {
      const as = hourly.as(ALICE);
      await hourly.request
        .post('/api/paved/tenants')
        .set('authorization', as)
        .send({
          name: 'retried',
          displayName: 'Retried',
          owner: TEAM_A,
          plan: 'tiny',
        })
        .expect(201);
      await asOperatorCreateNamespace('retried');
      await hourly.request
        .put('/api/paved/tenants/retried/apps/web')
        .set('authorization', as)
        .send({ image: 'ghcr.io/acme/web:1.0.0' })
        .expect(201);
      await eventually(
        'first image applied',
        async () =>
          (
            await admin.tryGet<any>(APPS, 'web', 'tenant-retried')
          )?.spec.image === 'ghcr.io/acme/web:1.0.0',
      );
      // The scheduled sync's first run (5 s after the start) is over.
      await new Promise(r => setTimeout(r, 6000));

      await proxy.down();
      down = true;
      const update = await hourly.request
        .put('/api/paved/tenants/retried/apps/web')
        .set('authorization', as)
        .send({ image: 'ghcr.io/acme/web:2.0.0' });
      expect(update.status).toBe(200);
      expect(update.body.sync.pending).toBe(true);
      await new Promise(r => setTimeout(r, 3000));
      const upAgain = Date.now();
      await proxy.up();
      down = false;
      await eventually(
        'update applied by the retry',
        async () =>
          (await admin.get<any>(APPS, 'web', 'tenant-retried')).spec.image ===
          'ghcr.io/acme/web:2.0.0',
        30_000,
      );
      // The retry waits at most 16 s (BEHIND_RETRY_MS.max).
      expect(Date.now() - upAgain).toBeLessThan(17_000);
    } finally {
      if (down) await proxy.up();
      await hourly.stop();
      await deleteExisting(TENANTS, 'retried');
    }
  });

  it('ends two concurrent deploys of one app in one state, in the database and the cluster', async () => {
    const images = ['race:1', 'race:2', 'race:3', 'race:4'];
    const results = await Promise.all(
      images.map(image =>
        api()
          .put('/api/paved/tenants/acme/apps/race')
          .set('authorization', backend.as(ALICE))
          .send({ image }),
      ),
    );
    expect(results.map(r => r.status).sort()).toEqual([200, 200, 200, 201]);
    const final = await eventually('race settled', async () => {
      const res = await api()
        .get('/api/paved/tenants/acme/apps/race')
        .set('authorization', backend.as(ALICE));
      return !res.body.sync.pending && res.body;
    });
    expect(final.revision).toBe(4);
    const cr = await admin.get<any>(APPS, 'race', 'tenant-acme');
    expect(cr.spec.image).toBe(final.image);
    expect(cr.metadata.annotations['paved.dev/backend-generation']).toBe('4');
  });

  it('redeploy changes only the redeploy annotation', async () => {
    const before = await admin.get<any>(APPS, 'race', 'tenant-acme');
    await api()
      .post('/api/paved/tenants/acme/apps/race/redeploy')
      .set('authorization', backend.as(ALICE));
    const after = await eventually('redeploy applied', async () => {
      const cr = await admin.get<any>(APPS, 'race', 'tenant-acme');
      return cr.metadata.annotations['paved.dev/redeploy-token'] && cr;
    });
    expect(after.spec).toEqual(before.spec);
  });

  it('rolls a new revision when a secret value changes, and keeps every value out of rows, CRs, answers and logs', async () => {
    // A replica of the backend on the same database whose log (at every
    // level) this test reads.
    const logs: string[] = [];
    const logged = (level: string) => (message: string, meta?: unknown) => {
      logs.push(`${level} ${message} ${meta ? JSON.stringify(meta) : ''}`);
    };
    const logger: any = {
      error: logged('error'),
      warn: logged('warn'),
      info: logged('info'),
      debug: logged('debug'),
      child: () => logger,
    };
    const replica = await startPavedBackend({
      knex,
      config: {
        paved: {
          kubernetes: { kubeconfig: path.join(kubeconfigDir, 'kubeconfig') },
          plans: PLANS,
        },
      },
      features: [
        createServiceFactory({
          service: coreServices.rootLogger,
          deps: {},
          factory: () => logger,
        }),
      ],
    });
    const values = ['first-value-7f3a9c', 'second-value-0b2e4d'];
    const url = '/api/paved/tenants/acme/apps/vault';
    const as = (req: any) => req.set('authorization', replica.as(ALICE));
    const tokenOf = async (generation: number) => {
      const cr: any = await eventually(
        `generation ${generation} applied`,
        async () => {
          const res = await as(replica.request.get(url));
          return (
            res.body.sync.appliedGeneration >= generation &&
            admin.get<any>(APPS, 'vault', 'tenant-acme')
          );
        },
      );
      return cr.metadata.annotations?.['paved.dev/redeploy-token'];
    };
    try {
      const created = await as(replica.request.put(url)).send({
        image: 'ghcr.io/acme/vault:1',
        scaling: { minInstances: 1, maxInstances: 2 },
        env: [{ name: 'TOKEN', value: values[0], secret: true }],
      });
      expect(created.status).toBe(201);
      const first = await tokenOf(1);

      // A new value: a new revision, so running instances read it.
      await as(replica.request.patch(`${url}/env`)).send({
        set: [{ name: 'TOKEN', value: values[1], secret: true }],
      });
      const second = await tokenOf(2);
      expect(second).toBeDefined();
      expect(second).not.toBe(first);
      const secret = await admin.get<any>(
        SECRETS,
        'vault-paved-env',
        'tenant-acme',
      );
      expect(Buffer.from(secret.data.TOKEN, 'base64').toString()).toBe(
        values[1],
      );
      // The mask keeps the value, and the same value again is no change.
      await as(replica.request.patch(`${url}/env`)).send({
        set: [{ name: 'TOKEN', value: SECRET_MASK, secret: true }],
      });
      expect(await tokenOf(3)).toBe(second);
      await as(replica.request.patch(`${url}/env`)).send({
        set: [{ name: 'TOKEN', value: values[1], secret: true }],
      });
      expect(await tokenOf(4)).toBe(second);

      // Nowhere but the Secret: rows, App CRs, events, API answers, logs.
      const seen: string[] = [];
      for (const table of [
        'paved_tenants',
        'paved_apps',
        'paved_app_secrets',
        'paved_app_revisions',
        'paved_audit_log',
      ]) {
        seen.push(JSON.stringify(await knex(table).select()));
      }
      seen.push(
        JSON.stringify(await admin.list(APPS)),
        JSON.stringify(await admin.list(EVENTS, { namespace: 'tenant-acme' })),
      );
      for (const suffix of ['', '/revisions', '/audit', '/events']) {
        seen.push(
          JSON.stringify(
            (await as(replica.request.get(`${url}${suffix}`))).body,
          ),
        );
      }
      // The log was read: the replica logged its applies.
      expect(logs.length).toBeGreaterThan(0);
      seen.push(...logs);
      const all = seen.join('\n');
      expect(all).toContain('TOKEN');
      for (const value of values) expect(all).not.toContain(value);
    } finally {
      await replica.stop();
    }
  });

  it('puts back CRs deleted or edited by hand (the plugin wires the watch and the full sync)', async () => {
    await deleteExisting(APPS, 'race', 'tenant-acme');
    await admin.mergePatch(TENANTS, 'acme', undefined, {
      spec: { owner: 'group:default/mallory' },
    });
    const app = await eventually(
      'App CR back',
      () => admin.tryGet<any>(APPS, 'race', 'tenant-acme'),
      10_000,
    );
    expect(app.metadata.annotations['paved.dev/backend-generation']).toBe('5');
    await eventually(
      'owner restored',
      async () => (await admin.get<any>(TENANTS, 'acme')).spec.owner === TEAM_A,
      10_000,
    );
  });

  it('deletes the Tenant CR and then the rows', async () => {
    const res = await api()
      .delete('/api/paved/tenants/acme')
      .set('authorization', backend.as(ALICE));
    expect(res.status).toBe(202);
    await eventually(
      'tenant gone',
      async () => !(await admin.tryGet<any>(TENANTS, 'acme')),
    );
    const gone = await eventually('tenant row purged', async () => {
      const again = await api()
        .post('/api/paved/tenants')
        .set('authorization', backend.as(ALICE))
        .send({ name: 'acme', displayName: 'Acme again', owner: TEAM_A });
      return again.status === 201 && again.body;
    });
    expect(gone.sync.generation).toBe(1);
  });
});

describe('StatusCache', () => {
  it('keeps watching through an API server restart', async () => {
    const cache = new StatusCache(
      await KubeClient.fromKubeConfig(cluster().kubeConfig),
      mockServices.logger.mock(),
    );
    const changes: string[] = [];
    cache.onChange(change => changes.push(`${change.kind}:${change.name}`));
    cache.start();
    try {
      await eventually('cache synced', async () => cache.synced);
      await admin.apply(
        TENANTS,
        {
          apiVersion: PAVED_API_VERSION,
          kind: 'Tenant',
          metadata: { name: 'watched' },
          spec: { displayName: 'Watched', owner: TEAM_A },
        },
        { fieldManager: 'paved-test' },
      );
      await eventually(
        'tenant seen',
        async () => cache.tenant('watched').resource,
      );

      await Promise.race([
        cluster().restartApiServer(),
        new Promise((_, reject) =>
          setTimeout(
            () => reject(new Error('restartApiServer did not return in 90 s')),
            90_000,
          ).unref(),
        ),
      ]);
      await admin.mergePatch(
        TENANTS,
        'watched',
        undefined,
        { status: { phase: 'Active', namespace: 'tenant-watched' } },
        'status',
      );
      const after = await eventually('status after restart', async () => {
        const seen = cache.tenant('watched');
        return seen.resource?.status?.phase === 'Active' && seen;
      });
      expect(after.known).toBe(true);
      expect(changes).toContain('tenant:watched');

      await deleteExisting(TENANTS, 'watched');
      await eventually(
        'deletion seen',
        async () =>
          cache.tenant('watched').known && !cache.tenant('watched').resource,
      );
    } finally {
      await cache.stop();
    }
  });
});

describe('ClusterSync across replicas', () => {
  it('corrects an older apply that landed after a newer one from another replica', async () => {
    const store = await DatabasePavedStore.create({
      database: mockServices.database({
        knex: await databases.init('SQLITE_3'),
      }),
    });
    const actor = { ref: ALICE, principalType: 'user' as const };
    await store.createTenant(
      {
        name: 'replicas',
        displayName: 'Replicas',
        owner: TEAM_A,
        plan: 'free',
        networkIsolation: true,
      },
      actor,
    );
    await asOperatorCreateNamespace('replicas');
    const deploy = (image: string) =>
      store.writeApp({
        tenant: 'replicas',
        name: 'web',
        spec: () => appSpecSchema.parse({ image }),
        action: 'deploy',
        actor,
      });
    await deploy('web:1');

    const options = {
      client: await KubeClient.fromKubeConfig(cluster().kubeConfig),
      plans: () => resolvePlans(),
      logger: mockServices.logger.mock(),
    };
    const replicaB = new ClusterSync({ ...options, store });
    // Replica A reads the row; before it applies, replica B saves and
    // applies a newer deploy. A's apply then lands last with older data.
    let interleaved = false;
    const storeSeenByA = new Proxy(store, {
      get(target, prop) {
        if (prop === 'getApp') {
          return async (tenant: string, name: string) => {
            const row = await target.getApp(tenant, name);
            if (!interleaved) {
              interleaved = true;
              await deploy('web:2');
              await replicaB.syncApp(tenant, name);
            }
            return row;
          };
        }
        const value = (target as any)[prop];
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const replicaA = new ClusterSync({ ...options, store: storeSeenByA });
    await replicaA.syncApp('replicas', 'web');

    expect(interleaved).toBe(true);
    const cr = await admin.get<any>(APPS, 'web', 'tenant-replicas');
    expect(cr.spec.image).toBe('web:2');
    expect(cr.metadata.annotations['paved.dev/backend-generation']).toBe('2');
  });
});
