/**
 * Drift repaired both ways, against a real kube-apiserver: Tenant and App
 * CRs deleted or edited by hand are put back from the database (quickly from
 * the watch, and by the scheduled full reconciliation), a rebuilt cluster
 * converges, Secrets included, and changes to paved.plans reach the tenants.
 *
 * ClusterSync is built here with a plans() function the tests change, and no
 * scheduler: the quick repair is the StatusCache's events alone, the full
 * reconciliation is a call of syncAll(). No operator runs (see
 * cluster.test.ts); the tenant namespaces are made by hand.
 */
import { eventually, useTestCluster } from '@paved/test-cluster';
import {
  PAVED_API_VERSION,
  Plan,
  appSpecSchema,
  pavedLabels,
  resolvePlans,
} from '@paved/plugin-paved-common';
import { mockServices } from '@backstage/backend-test-utils';
import { pavedTestDatabases } from '../__testUtils__/databases';
import { DatabasePavedStore } from '../database/DatabasePavedStore';
import { SecretBox } from '../database/SecretBox';
import { tenantView } from '../service/views';
import { ClusterSync } from './ClusterSync';
import { KubeClient, KubeError } from './KubeClient';
import { appPath, secretPath, tenantPath } from './resources';
import { StatusCache } from './StatusCache';

jest.setTimeout(300_000);

const cluster = useTestCluster({
  knative: false,
  capsule: false,
  cilium: false,
});
const databases = pavedTestDatabases();

/** "Within a few seconds": the quick repair, not the next scheduled run. */
const QUICK_MS = 5_000;

const actor = { ref: 'user:default/alice', principalType: 'user' as const };

describe.each(databases.eachSupportedId())('drift repair on %s', databaseId => {
  const tenant = databaseId === 'SQLITE_3' ? 'drift-s' : 'drift-p';
  const namespace = `tenant-${tenant}`;
  let admin: KubeClient;
  let store: DatabasePavedStore;
  let sync: ClusterSync;
  let cache: StatusCache;
  let logger: ReturnType<typeof mockServices.logger.mock>;
  let plans: Plan[];
  let watching: (() => void) | undefined;

  const watch = () => {
    watching = cache.onChange(change => sync.handleChange(change));
  };
  const unwatch = () => {
    watching?.();
    watching = undefined;
  };

  async function getOrUndefined(path: string) {
    try {
      return await admin.request('GET', path);
    } catch (error) {
      if (error instanceof KubeError && error.code === 404) return undefined;
      throw error;
    }
  }

  const warnings = (pattern: RegExp) =>
    logger.warn.mock.calls.filter(([message]) => pattern.test(String(message)))
      .length;

  beforeAll(async () => {
    admin = new KubeClient(cluster().kubeConfig);
    store = await DatabasePavedStore.create({
      database: mockServices.database({
        knex: await databases.init(databaseId),
      }),
      secretBox: new SecretBox('drift-test-key'),
    });
    plans = resolvePlans({ drift: { cpu: '2', memory: '2Gi', maxApps: 5 } });
    logger = mockServices.logger.mock();
    sync = new ClusterSync({
      store,
      client: new KubeClient(cluster().kubeConfig),
      plans: () => plans,
      logger,
    });
    cache = new StatusCache(new KubeClient(cluster().kubeConfig), logger);
    cache.start();
    await eventually('cache synced', async () => cache.synced);

    await store.createTenant(
      {
        name: tenant,
        displayName: 'Drift',
        owner: 'group:default/team-a',
        plan: 'drift',
        networkIsolation: true,
      },
      actor,
    );
    // What the operator would do first.
    await admin.request('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
    await store.writeApp({
      tenant,
      name: 'web',
      spec: () =>
        appSpecSchema.parse({
          image: 'ghcr.io/acme/web:1.0.0',
          env: [
            { name: 'MODE', value: 'prod' },
            {
              name: 'TOKEN',
              secretKeyRef: { name: 'web-paved-env', key: 'TOKEN' },
            },
          ],
        }),
      secrets: new Map([['TOKEN', 'hunter2']]),
      action: 'deploy',
      actor,
    });
    await store.writeApp({
      tenant,
      name: 'api',
      spec: () => appSpecSchema.parse({ image: 'ghcr.io/acme/api:1.0.0' }),
      action: 'deploy',
      actor,
    });
    const first = await sync.syncBehind();
    if (first.applied !== 3 || first.behind !== 0) {
      throw new Error(`First sync: ${JSON.stringify(first)}`);
    }
    watch();
  });

  afterAll(async () => {
    unwatch();
    await cache?.stop();
    await sync?.close();
  });

  it('puts back a Tenant CR and an App CR deleted by hand, within seconds (watch)', async () => {
    await admin.request('DELETE', tenantPath(tenant));
    await admin.request('DELETE', appPath(namespace, 'web'));

    const back = await eventually(
      'Tenant CR back',
      () => getOrUndefined(tenantPath(tenant)),
      QUICK_MS,
    );
    expect(back.spec).toMatchObject({
      owner: 'group:default/team-a',
      plan: 'drift',
      limits: { cpu: '2', memory: '2Gi', maxApps: 5 },
    });
    const app = await eventually(
      'App CR back',
      () => getOrUndefined(appPath(namespace, 'web')),
      QUICK_MS,
    );
    expect(app.spec.image).toBe('ghcr.io/acme/web:1.0.0');
    expect(app.metadata.annotations['paved.dev/backend-generation']).toBe('1');
  });

  it('restores backend-owned fields edited by hand (image, plan, owner), within seconds (watch)', async () => {
    await admin.request(
      'PATCH',
      appPath(namespace, 'web'),
      { spec: { image: 'evil/miner:latest' } },
      'application/merge-patch+json',
    );
    await admin.request(
      'PATCH',
      tenantPath(tenant),
      {
        spec: {
          plan: 'enterprise',
          owner: 'group:default/mallory',
          limits: { cpu: '64' },
        },
      },
      'application/merge-patch+json',
    );
    await eventually(
      'image restored',
      async () =>
        (await admin.request('GET', appPath(namespace, 'web'))).spec.image ===
        'ghcr.io/acme/web:1.0.0',
      QUICK_MS,
    );
    const restored = await eventually(
      'tenant restored',
      async () => {
        const cr = await admin.request('GET', tenantPath(tenant));
        return cr.spec.owner === 'group:default/team-a' && cr;
      },
      QUICK_MS,
    );
    expect(restored.spec).toMatchObject({
      plan: 'drift',
      limits: { cpu: '2', memory: '2Gi', maxApps: 5 },
    });
    // The row was in step all along: nothing in the database changed.
    expect((await store.getApp(tenant, 'web'))!.generation).toBe(1);
  });

  it('repairs with the scheduled full reconciliation alone (no watch): deleted CR, edited CR, deleted Secret', async () => {
    unwatch();
    try {
      await admin.request('DELETE', appPath(namespace, 'api'));
      await admin.request(
        'PATCH',
        appPath(namespace, 'web'),
        { spec: { port: 9999 } },
        'application/merge-patch+json',
      );
      await admin.request('DELETE', secretPath(namespace, 'web-paved-env'));
      // A status-only change by the operator is no drift.
      await admin.request(
        'PATCH',
        `${tenantPath(tenant)}/status`,
        { status: { phase: 'Active', namespace } },
        'application/merge-patch+json',
      );

      const summary = await sync.syncAll();
      expect(summary).toMatchObject({
        applied: 0,
        behind: 0,
        repaired: 2,
        failed: 0,
      });
      expect(
        (await admin.request('GET', appPath(namespace, 'api'))).spec.image,
      ).toBe('ghcr.io/acme/api:1.0.0');
      expect(
        (await admin.request('GET', appPath(namespace, 'web'))).spec.port,
      ).toBe(8080);
      const secret = await admin.request(
        'GET',
        secretPath(namespace, 'web-paved-env'),
      );
      expect(Buffer.from(secret.data.TOKEN, 'base64').toString()).toBe(
        'hunter2',
      );
      // In step now: the next run finds nothing to do.
      expect(await sync.syncAll()).toMatchObject({ repaired: 0 });
    } finally {
      watch();
    }
  });

  it('converges a rebuilt cluster (every CR and Secret gone) to the database', async () => {
    unwatch();
    try {
      await admin.request('DELETE', appPath(namespace, 'web'));
      await admin.request('DELETE', appPath(namespace, 'api'));
      await admin.request('DELETE', secretPath(namespace, 'web-paved-env'));
      await admin.request('DELETE', tenantPath(tenant));

      // The first run puts the Tenant back; its apps follow once the
      // operator has (re)made the namespace, here on the next run.
      await eventually('converged', async () => {
        await sync.syncAll();
        const [t, web, api, secret] = await Promise.all([
          getOrUndefined(tenantPath(tenant)),
          getOrUndefined(appPath(namespace, 'web')),
          getOrUndefined(appPath(namespace, 'api')),
          getOrUndefined(secretPath(namespace, 'web-paved-env')),
        ]);
        return t && web && api && secret && { t, web, api, secret };
      });
      const [t, web, api, secret] = await Promise.all([
        admin.request('GET', tenantPath(tenant)),
        admin.request('GET', appPath(namespace, 'web')),
        admin.request('GET', appPath(namespace, 'api')),
        admin.request('GET', secretPath(namespace, 'web-paved-env')),
      ]);
      expect(t.spec.limits).toEqual({ cpu: '2', memory: '2Gi', maxApps: 5 });
      expect(web.spec.image).toBe('ghcr.io/acme/web:1.0.0');
      expect(web.spec.env).toEqual([
        { name: 'MODE', value: 'prod' },
        {
          name: 'TOKEN',
          secretKeyRef: { name: 'web-paved-env', key: 'TOKEN' },
        },
      ]);
      expect(api.spec.image).toBe('ghcr.io/acme/api:1.0.0');
      expect(Buffer.from(secret.data.TOKEN, 'base64').toString()).toBe(
        'hunter2',
      );
      expect((await store.getApp(tenant, 'web'))!.secretApplied).toBe(true);
    } finally {
      watch();
    }
  });

  it("brings a plan's limits edited in paved.plans to the tenants on that plan", async () => {
    plans = resolvePlans({ drift: { cpu: '3', memory: '4Gi', maxApps: 7 } });
    const summary = await sync.syncAll();
    expect(summary.repaired).toBe(1);
    const cr = await admin.request('GET', tenantPath(tenant));
    expect(cr.spec.limits).toEqual({ cpu: '3', memory: '4Gi', maxApps: 7 });
    // The database row did not change; the config did.
    expect((await store.getTenant(tenant))!.generation).toBe(1);
  });

  it('gives the tenants of a removed plan a visible error, logged once, and leaves their CR as it was', async () => {
    plans = resolvePlans();
    for (let run = 0; run < 3; run++) await sync.syncAll();

    const row = (await store.getTenant(tenant))!;
    expect(row.lastError).toBe(
      'Plan "drift" is no longer offered (paved.plans); move the tenant to one of free, starter, pro, enterprise, or add the plan back to paved.plans. The cluster keeps the limits it was last given.',
    );
    // What the API (and the UI) shows.
    const view = tenantView(row, 2, { plans: () => plans });
    expect(view.sync).toMatchObject({ pending: false });
    expect(view.sync.lastError).toMatch(/Plan "drift" is no longer offered/);
    expect(warnings(/Plan "drift" is no longer offered/)).toBe(1);
    expect(
      (await admin.request('GET', tenantPath(tenant))).spec.limits,
    ).toEqual({ cpu: '3', memory: '4Gi', maxApps: 7 });
    // The watch does not re-apply it either (the CR is not re-applied
    // without limits), and the apps are unaffected.
    await admin.request('DELETE', appPath(namespace, 'api'));
    await eventually(
      'App CR back',
      () => getOrUndefined(appPath(namespace, 'api')),
      QUICK_MS,
    );

    // The plan back: the error goes with the next run.
    plans = resolvePlans({ drift: { cpu: '3', memory: '4Gi', maxApps: 7 } });
    await sync.syncAll();
    expect((await store.getTenant(tenant))!.lastError).toBeUndefined();
  });

  it('leaves alone, and logs once, CRs with Paved labels the database does not know', async () => {
    const stray = `${tenant}-stray`;
    await admin.apply(
      tenantPath(stray),
      {
        apiVersion: PAVED_API_VERSION,
        kind: 'Tenant',
        metadata: { name: stray, labels: pavedLabels(stray) },
        spec: { displayName: 'Stray', owner: 'group:default/team-a' },
      },
      'kubectl',
    );
    const first = await sync.syncAll();
    const second = await sync.syncAll();
    expect(first.unknown).toBeGreaterThanOrEqual(1);
    expect(second.unknown).toBe(first.unknown);
    expect(await getOrUndefined(tenantPath(stray))).toBeDefined();
    expect(warnings(new RegExp(`Tenant ${stray} carries Paved's labels`))).toBe(
      1,
    );
    await admin.request('DELETE', tenantPath(stray));
  });

  it('stops the quick repair of an object that is changed again each time (a webhook fight), leaving it to the scheduled sync', async () => {
    await store.writeApp({
      tenant,
      name: 'fight',
      spec: () => appSpecSchema.parse({ image: 'ghcr.io/acme/fight:1.0.0' }),
      action: 'deploy',
      actor,
    });
    await sync.syncApp(tenant, 'fight');
    // What an image-pinning webhook would write.
    const pinned = `ghcr.io/acme/fight@sha256:${'a'.repeat(64)}`;
    const image = async () =>
      (await admin.request('GET', appPath(namespace, 'fight'))).spec.image;
    const edit = () =>
      admin.request(
        'PATCH',
        appPath(namespace, 'fight'),
        {
          spec: {
            image: pinned,
          },
        },
        'application/merge-patch+json',
      );
    for (let round = 0; round < 5; round++) {
      await edit();
      await eventually(
        `restored, round ${round}`,
        async () => (await image()) === 'ghcr.io/acme/fight:1.0.0',
        QUICK_MS,
      );
    }
    await edit();
    await new Promise(resolve => setTimeout(resolve, 1500));
    expect(await image()).toBe(pinned);
    expect(
      warnings(/App drift-.\/fight was changed in the cluster again/),
    ).toBe(1);
    await sync.syncAll();
    expect(await image()).toBe('ghcr.io/acme/fight:1.0.0');
  });

  it('still deletes: an app, then the tenant, CRs and rows', async () => {
    await store.markAppDeleting(tenant, 'api', actor);
    await sync.syncApp(tenant, 'api');
    expect(await getOrUndefined(appPath(namespace, 'api'))).toBeUndefined();
    expect(await store.getApp(tenant, 'api')).toBeUndefined();

    await store.markTenantDeleting(tenant, actor);
    await eventually('tenant deleted', async () => {
      await sync.syncAll();
      return !(await store.getTenant(tenant));
    });
    expect(await getOrUndefined(tenantPath(tenant))).toBeUndefined();
    // The deletion was not taken for drift: nothing came back.
    await new Promise(resolve => setTimeout(resolve, 500));
    expect(await getOrUndefined(tenantPath(tenant))).toBeUndefined();
  });
});
