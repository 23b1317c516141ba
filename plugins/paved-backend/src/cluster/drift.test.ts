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
import {
  APPS,
  KubeClient,
  NAMESPACES,
  ResourceType,
  SECRETS,
  TENANTS,
  resourcePath,
} from '@paved/kube';
import { StatusCache } from './StatusCache';
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
const databases = pavedTestDatabases();

/** "Within a few seconds": the quick repair, not the next scheduled run. */
const QUICK_MS = 5_000;

const actor = { ref: 'user:default/alice', principalType: 'user' as const };

describe.each(databases.eachSupportedId())('drift repair on %s', databaseId => {
  const tenant = databaseId === 'SQLITE_3' ? 'drift-s' : 'drift-p';
  const namespace = `tenant-${tenant}`;
  let admin: KubeClient;
  let finalizers: FinalizerStandIn | undefined;
  /** ClusterSync's own client, whose requests a test counts. */
  let syncClient: KubeClient;
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

  const deleteExisting = (
    type: ResourceType,
    name: string,
    inNamespace?: string,
  ) => deleteExistingIn(admin, type, name, inNamespace);

  const warnings = (pattern: RegExp) =>
    logger.warn.mock.calls.filter(([message]) => pattern.test(String(message)))
      .length;

  beforeAll(async () => {
    admin = await KubeClient.fromKubeConfig(cluster().kubeConfig);
    // No operator runs here: deleted CRs lose its finalizer.
    finalizers = await startFinalizerStandIn(admin);
    store = await DatabasePavedStore.create({
      database: mockServices.database({
        knex: await databases.init(databaseId),
      }),
      secretBox: new SecretBox('drift-test-key'),
    });
    plans = resolvePlans({ drift: { cpu: '2', memory: '2Gi', maxApps: 5 } });
    logger = mockServices.logger.mock();
    syncClient = await KubeClient.fromKubeConfig(cluster().kubeConfig);
    sync = new ClusterSync({
      store,
      client: syncClient,
      plans: () => plans,
      logger,
    });
    cache = new StatusCache(
      await KubeClient.fromKubeConfig(cluster().kubeConfig),
      logger,
    );
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
    await admin.create(NAMESPACES, {
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
    await finalizers?.stop();
    await cache?.stop();
    await sync?.close();
    syncClient?.close();
    admin?.close();
  });

  it('puts back a Tenant CR and an App CR deleted by hand, within seconds (watch)', async () => {
    await deleteExisting(TENANTS, tenant);
    await deleteExisting(APPS, 'web', namespace);

    const back = await eventually(
      'Tenant CR back',
      () => admin.tryGet<any>(TENANTS, tenant),
      QUICK_MS,
    );
    expect(back.spec).toMatchObject({
      owner: 'group:default/team-a',
      plan: 'drift',
      limits: { cpu: '2', memory: '2Gi', maxApps: 5 },
    });
    const app = await eventually(
      'App CR back',
      () => admin.tryGet<any>(APPS, 'web', namespace),
      QUICK_MS,
    );
    expect(app.spec.image).toBe('ghcr.io/acme/web:1.0.0');
    expect(app.metadata.annotations['paved.dev/backend-generation']).toBe('1');
  });

  it('restores backend-owned fields edited by hand (image, plan, owner), within seconds (watch)', async () => {
    await admin.mergePatch(APPS, 'web', namespace, {
      spec: { image: 'evil/miner:latest' },
    });
    await admin.mergePatch(TENANTS, tenant, undefined, {
      spec: {
        plan: 'enterprise',
        owner: 'group:default/mallory',
        limits: { cpu: '64' },
      },
    });
    await eventually(
      'image restored',
      async () =>
        (await admin.get<any>(APPS, 'web', namespace)).spec.image ===
        'ghcr.io/acme/web:1.0.0',
      QUICK_MS,
    );
    const restored = await eventually(
      'tenant restored',
      async () => {
        const cr = await admin.get<any>(TENANTS, tenant);
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
      await deleteExisting(APPS, 'api', namespace);
      await admin.mergePatch(APPS, 'web', namespace, { spec: { port: 9999 } });
      await deleteExisting(SECRETS, 'web-paved-env', namespace);
      // A status-only change by the operator is no drift.
      await admin.mergePatch(
        TENANTS,
        tenant,
        undefined,
        { status: { phase: 'Active', namespace } },
        'status',
      );

      const summary = await sync.syncAll();
      expect(summary).toMatchObject({
        applied: 0,
        behind: 0,
        repaired: 2,
        failed: 0,
      });
      expect((await admin.get<any>(APPS, 'api', namespace)).spec.image).toBe(
        'ghcr.io/acme/api:1.0.0',
      );
      expect((await admin.get<any>(APPS, 'web', namespace)).spec.port).toBe(
        8080,
      );
      const secret = await admin.get<any>(SECRETS, 'web-paved-env', namespace);
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
      await deleteExisting(APPS, 'web', namespace);
      await deleteExisting(APPS, 'api', namespace);
      await deleteExisting(SECRETS, 'web-paved-env', namespace);
      await deleteExisting(TENANTS, tenant);

      // The first run puts the Tenant back; its apps follow once the
      // operator has (re)made the namespace, here on the next run.
      await eventually('converged', async () => {
        await sync.syncAll();
        const [t, web, api, secret] = await Promise.all([
          admin.tryGet<any>(TENANTS, tenant),
          admin.tryGet<any>(APPS, 'web', namespace),
          admin.tryGet<any>(APPS, 'api', namespace),
          admin.tryGet<any>(SECRETS, 'web-paved-env', namespace),
        ]);
        return t && web && api && secret && { t, web, api, secret };
      });
      const [t, web, api, secret] = await Promise.all([
        admin.get<any>(TENANTS, tenant),
        admin.get<any>(APPS, 'web', namespace),
        admin.get<any>(APPS, 'api', namespace),
        admin.get<any>(SECRETS, 'web-paved-env', namespace),
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
    const cr = await admin.get<any>(TENANTS, tenant);
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
    expect((await admin.get<any>(TENANTS, tenant)).spec.limits).toEqual({
      cpu: '3',
      memory: '4Gi',
      maxApps: 7,
    });
    // The watch does not re-apply it either (the CR is not re-applied
    // without limits), and the apps are unaffected.
    await deleteExisting(APPS, 'api', namespace);
    await eventually(
      'App CR back',
      () => admin.tryGet<any>(APPS, 'api', namespace),
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
      TENANTS,
      {
        apiVersion: PAVED_API_VERSION,
        kind: 'Tenant',
        metadata: { name: stray, labels: pavedLabels(stray) },
        spec: { displayName: 'Stray', owner: 'group:default/team-a' },
      },
      { fieldManager: 'kubectl' },
    );
    const first = await sync.syncAll();
    const second = await sync.syncAll();
    expect(first.unknown).toBeGreaterThanOrEqual(1);
    expect(second.unknown).toBe(first.unknown);
    expect(await admin.tryGet<any>(TENANTS, stray)).toBeDefined();
    expect(warnings(new RegExp(`Tenant ${stray} carries Paved's labels`))).toBe(
      1,
    );
    await deleteExisting(TENANTS, stray);
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
      (await admin.get<any>(APPS, 'fight', namespace)).spec.image;
    const edit = () =>
      admin.mergePatch(APPS, 'fight', namespace, {
        spec: {
          image: pinned,
        },
      });
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

  it("applies a custom domain's certificate as a kubernetes.io/tls Secret, puts it back when deleted, and deletes it with the domain (or at the full sync)", async () => {
    const name = 'tls-secret';
    const cert = {
      certificate:
        '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      privateKey:
        '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n',
      notAfter: '2030-01-01T00:00:00.000Z',
    };
    const domain = `${tenant}.example.com`;
    const secretName = `paved-tls-${domain}`;
    const write = (domains: string[], withCert: boolean) =>
      store.writeApp({
        tenant,
        name,
        spec: () =>
          appSpecSchema.parse({ image: 'ghcr.io/acme/web:1.0.0', domains }),
        certificates: withCert ? new Map([[domain, cert]]) : undefined,
        action: 'deploy',
        actor,
      });
    await write([domain], true);
    await sync.syncApp(tenant, name);
    const secret = await admin.get<any>(SECRETS, secretName, namespace);
    expect({
      type: secret.type,
      labels: secret.metadata.labels,
      crt: Buffer.from(secret.data['tls.crt'], 'base64').toString(),
      key: Buffer.from(secret.data['tls.key'], 'base64').toString(),
    }).toEqual({
      type: 'kubernetes.io/tls',
      labels: expect.objectContaining({
        'paved.dev/app': name,
        'paved.dev/tls': 'true',
      }),
      crt: cert.certificate,
      key: cert.privateKey,
    });
    expect((await admin.get<any>(APPS, name, namespace)).spec.tls).toEqual([
      { domain, secretName, notAfter: cert.notAfter },
    ]);

    unwatch();
    try {
      await deleteExisting(SECRETS, secretName, namespace);
      expect(await sync.syncAll()).toMatchObject({ repaired: 1, failed: 0 });
      expect((await admin.get<any>(SECRETS, secretName, namespace)).type).toBe(
        'kubernetes.io/tls',
      );
    } finally {
      watch();
    }

    // The domain goes: so does its Secret.
    await write([], false);
    await sync.syncApp(tenant, name);
    expect(await admin.tryGet(SECRETS, secretName, namespace)).toBeUndefined();

    // A TLS Secret of a domain the tenant does not hold, left by another
    // replica (this one saw the app hold none and no longer lists its
    // Secrets on each apply): the full sync deletes it.
    const stray = `paved-tls-stray.${domain}`;
    await admin.create(SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: stray, namespace, labels: secret.metadata.labels },
      data: secret.data,
    });
    await sync.syncApp(tenant, name, { force: true });
    await sync.syncAll();
    expect(await admin.tryGet(SECRETS, stray, namespace)).toBeUndefined();

    await store.markAppDeleting(tenant, name, actor);
    await sync.syncApp(tenant, name);
  });

  it('still deletes: an app, then the tenant, CRs and rows', async () => {
    await store.markAppDeleting(tenant, 'api', actor);
    await sync.syncApp(tenant, 'api');
    // The CR goes once its finalizer is dropped (here by the stand-in).
    await eventually(
      'App CR gone',
      async () => !(await admin.tryGet<any>(APPS, 'api', namespace)),
    );
    expect(await store.getApp(tenant, 'api')).toBeUndefined();

    await store.markTenantDeleting(tenant, actor);
    await eventually('tenant deleted', async () => {
      await sync.syncAll();
      return !(await store.getTenant(tenant));
    });
    expect(await admin.tryGet<any>(TENANTS, tenant)).toBeUndefined();
    // The deletion was not taken for drift: nothing came back.
    await new Promise(resolve => setTimeout(resolve, 500));
    expect(await admin.tryGet<any>(TENANTS, tenant)).toBeUndefined();
  });
  it("applies the apps of a tenant that turns Active from that tenant's event, without a full sync", async () => {
    // A rebuilt cluster's tenant: its rows are in step, its Tenant CR was
    // put back, its App CR is missing (not behind); the operator has not
    // made it Active yet. Only the phase change can bring the app back
    // before the next full run.
    const waiting = `${tenant}-wait`;
    const waitingNs = `tenant-${waiting}`;
    await store.createTenant(
      {
        name: waiting,
        displayName: 'Waiting',
        owner: 'group:default/team-a',
        plan: 'drift',
        networkIsolation: true,
      },
      actor,
    );
    await admin.create(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: waitingNs },
    });
    await store.writeApp({
      tenant: waiting,
      name: 'web',
      spec: () => appSpecSchema.parse({ image: 'ghcr.io/acme/web:3.0.0' }),
      action: 'deploy',
      actor,
    });
    const first = await sync.syncBehind();
    if (first.applied !== 2 || first.behind !== 0) {
      throw new Error(`First sync: ${JSON.stringify(first)}`);
    }
    unwatch();
    try {
      await deleteExisting(APPS, 'web', waitingNs);
      await deleteExisting(TENANTS, waiting);
      await sync.syncTenant(waiting, { force: true });
    } finally {
      watch();
    }
    expect(await admin.tryGet<any>(APPS, 'web', waitingNs)).toBeUndefined();
    expect((await store.getApp(waiting, 'web'))!.appliedGeneration).toBe(1);

    const clusterWide = new Set([
      resourcePath(TENANTS),
      resourcePath(APPS),
      resourcePath(SECRETS),
    ]);
    const lists: string[] = [];
    const scoped: string[] = [];
    syncClient.onRequest = (method, path) => {
      if (method !== 'GET') return;
      if (clusterWide.has(path)) lists.push(path);
      else scoped.push(path);
    };
    const syncAll = jest.spyOn(sync, 'syncAll');
    try {
      // What the operator writes once the namespace is there.
      await admin.mergePatch(
        TENANTS,
        waiting,
        undefined,
        { status: { phase: 'Active', namespace: waitingNs } },
        'status',
      );
      const app = await eventually(
        'App CR back',
        () => admin.tryGet<any>(APPS, 'web', waitingNs),
        QUICK_MS,
      );
      expect(app.spec.image).toBe('ghcr.io/acme/web:3.0.0');
      expect(syncAll).not.toHaveBeenCalled();
      expect(lists).toEqual([]);
      // What it read instead: that tenant's objects only.
      expect(scoped).toEqual(
        expect.arrayContaining([
          resourcePath(TENANTS, undefined, waiting),
          resourcePath(APPS, waitingNs),
          resourcePath(SECRETS, waitingNs),
        ]),
      );
    } finally {
      syncClient.onRequest = undefined;
      syncAll.mockRestore();
      await admin.delete(APPS, 'web', waitingNs);
      await admin.delete(TENANTS, waiting);
    }
  });
});
