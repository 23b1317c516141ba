/* eslint-disable no-console */
/**
 * Benchmark of the full drift reconciliation (ClusterSync.syncAll) against a
 * real kube-apiserver (packages/test-cluster): 2,000 apps in 10 tenants
 * (PAVED_BENCH_APPS to change), on SQLite in memory or PostgreSQL when
 * PAVED_POSTGRES_URL is set. Prints the time of a run with nothing to do
 * (the steady state: three LISTs and a compare per row), of one that finds
 * 10% of the App CRs deleted, of a rebuilt cluster (every CR gone), and of
 * one tenant's sync (what a tenant's phase change runs).
 * Not part of the test suite: `yarn bench:reconcile`.
 */
import { mockServices } from '@backstage/backend-test-utils';
import { appSpecSchema, resolvePlans } from '@paved/plugin-paved-common';
import { runBenchmark, startTestCluster } from '@paved/test-cluster';
import { benchDatabase } from './database';
import os from 'os';
import { performance } from 'perf_hooks';
import {
  APPS as APP_RESOURCES,
  KubeClient,
  NAMESPACES,
  SECRETS,
  TENANTS as TENANT_RESOURCES,
  resourcePath,
} from '@paved/kube';
import { ClusterSync } from '../src/cluster/ClusterSync';
import { PAVED_SELECTOR } from '../src/cluster/resources';
import { DatabasePavedStore } from '../src/database/DatabasePavedStore';
import { SecretBox } from '../src/database/SecretBox';

const APPS = Number(process.env.PAVED_BENCH_APPS ?? 2000);
const TENANTS = 10;
const STEADY_RUNS = 5;

async function timed<T>(task: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const result = await task();
  return [result, performance.now() - t0];
}

async function inParallel<T>(items: T[], task: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < items.length) await task(items[next++]);
    }),
  );
}

async function main() {
  const cluster = await startTestCluster({
    knative: false,
    capsule: false,
    cilium: false,
  });
  const db = await benchDatabase('paved_bench_reconcile');
  try {
    const admin = await KubeClient.fromKubeConfig(cluster.kubeConfig);
    const store = await DatabasePavedStore.create({
      database: mockServices.database({ knex: db.knex }),
      secretBox: new SecretBox('bench'),
    });
    const actor = { ref: 'user:default/bench', principalType: 'user' as const };
    const sync = new ClusterSync({
      store,
      client: await KubeClient.fromKubeConfig(cluster.kubeConfig, {
        timeoutMs: 10_000,
      }),
      plans: () =>
        resolvePlans({ bench: { cpu: '64', memory: '128Gi', maxApps: 1000 } }),
      logger: mockServices.rootLogger({ level: 'warn' }),
    });
    for (let t = 0; t < TENANTS; t++) {
      await store.createTenant(
        {
          name: `bench-${t}`,
          displayName: `Bench ${t}`,
          owner: 'group:default/team-a',
          plan: 'bench',
          networkIsolation: true,
        },
        actor,
      );
      await admin.create(NAMESPACES, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: `tenant-bench-${t}` },
      });
    }
    const names = Array.from({ length: APPS }, (_, i) => ({
      tenant: `bench-${i % TENANTS}`,
      app: `app-${i}`,
    }));
    // One app in ten has a secret env var (and so a Secret).
    await inParallel(names, async ({ tenant, app }) => {
      const secret = Number(app.slice(4)) % 10 === 0;
      await store.writeApp({
        tenant,
        name: app,
        spec: () =>
          appSpecSchema.parse({
            image: `ghcr.io/acme/${app}:1.0.0`,
            env: [
              { name: 'MODE', value: 'bench' },
              ...(secret
                ? [
                    {
                      name: 'TOKEN',
                      secretKeyRef: { name: `${app}-paved-env`, key: 'TOKEN' },
                    },
                  ]
                : []),
            ],
          }),
        secrets: secret ? new Map([['TOKEN', `t-${app}`]]) : undefined,
        action: 'deploy',
        actor,
      });
    });

    const [first, firstMs] = await timed(() => sync.syncAll());
    if (first.applied !== APPS + TENANTS) {
      throw new Error(`first run applied ${JSON.stringify(first)}`);
    }
    const steady: number[] = [];
    for (let i = 0; i < STEADY_RUNS; i++) {
      const [result, ms] = await timed(() => sync.syncAll());
      if (result.repaired || result.applied) {
        throw new Error(`steady run did something: ${JSON.stringify(result)}`);
      }
      steady.push(ms);
    }
    const [, listMs] = await timed(() => admin.list(APP_RESOURCES));

    const tenth = names.filter((_, i) => i % 10 === 3);
    await inParallel(tenth, ({ tenant, app }) =>
      admin.delete(APP_RESOURCES, app, `tenant-${tenant}`),
    );
    const [partial, partialMs] = await timed(() => sync.syncAll());
    if (partial.repaired !== tenth.length) {
      throw new Error(`10% run: ${JSON.stringify(partial)}`);
    }

    // A rebuilt cluster: every App, Secret and Tenant gone (the namespaces
    // stay, as if the operator had already made them again).
    await inParallel(names, ({ tenant, app }) =>
      admin.delete(APP_RESOURCES, app, `tenant-${tenant}`),
    );
    for (let t = 0; t < TENANTS; t++) {
      // A DELETE of the collection: every Paved Secret of the namespace.
      await admin.request(
        'DELETE',
        resourcePath(SECRETS, `tenant-bench-${t}`),
        { query: { labelSelector: PAVED_SELECTOR } },
      );
      await admin.delete(TENANT_RESOURCES, `bench-${t}`);
    }
    const [rebuiltTenants, rebuiltTenantsMs] = await timed(() =>
      sync.syncAll(),
    );
    const [rebuiltApps, rebuiltAppsMs] = await timed(() => sync.syncAll());
    if (rebuiltTenants.repaired !== TENANTS || rebuiltApps.repaired !== APPS) {
      throw new Error(
        `rebuild: ${JSON.stringify(rebuiltTenants)} ${JSON.stringify(
          rebuiltApps,
        )}`,
      );
    }

    // One tenant's event (its phase changed): that tenant and its apps,
    // here with every one of its App CRs gone, then with nothing to do.
    const one = names.filter(n => n.tenant === 'bench-0');
    await inParallel(one, ({ tenant, app }) =>
      admin.delete(APP_RESOURCES, app, `tenant-${tenant}`),
    );
    const [scoped, scopedMs] = await timed(() =>
      sync.syncTenantAndApps('bench-0'),
    );
    if (scoped.repaired !== one.length) {
      throw new Error(`one tenant: ${JSON.stringify(scoped)}`);
    }
    const [scopedSteady, scopedSteadyMs] = await timed(() =>
      sync.syncTenantAndApps('bench-0'),
    );
    if (scopedSteady.repaired || scopedSteady.applied) {
      throw new Error(`one tenant, again: ${JSON.stringify(scopedSteady)}`);
    }

    const ms = (v: number) => `${v.toFixed(0)} ms`;
    steady.sort((a, b) => a - b);
    console.log(
      `Paved full reconciliation: ${APPS} apps (${
        APPS / 10
      } with a Secret) in ${TENANTS} tenants, ${
        db.label
      }, real kube-apiserver, ${os.cpus().length} CPUs`,
    );
    console.log(
      `first sync (all ${APPS + TENANTS} rows behind, applied one by one): ${ms(
        firstMs,
      )}`,
    );
    console.log(
      `steady state, nothing to repair (${STEADY_RUNS}x): median ${ms(
        steady[Math.floor(STEADY_RUNS / 2)],
      )}, max ${ms(
        steady[STEADY_RUNS - 1],
      )} (of which one LIST of all Apps: ${ms(listMs)})`,
    );
    console.log(
      `${tenth.length} App CRs deleted by hand: ${ms(
        partialMs,
      )} to find and re-apply them`,
    );
    console.log(
      `rebuilt cluster: ${ms(
        rebuiltTenantsMs,
      )} for the ${TENANTS} Tenants, then ${ms(
        rebuiltAppsMs,
      )} for the ${APPS} Apps and ${APPS / 10} Secrets`,
    );
    console.log(
      `one tenant's sync (a tenant event): ${ms(scopedMs)} to re-apply its ${
        one.length
      } missing App CRs, ${ms(scopedSteadyMs)} with nothing to do`,
    );
  } finally {
    await db.drop();
    await cluster.stop();
  }
}

runBenchmark(main);
