/* eslint-disable no-console */
/**
 * Benchmark of the Paved REST API: 1,000 apps, then p50/p99 latency of
 * get-app and list-apps and deploys per second, through HTTP with Paved's
 * owner policy. Runs on SQLite, or PostgreSQL when PAVED_POSTGRES_URL is
 * set; with `--cluster` every deploy is also applied to a real API server
 * (packages/test-cluster). Also counts the SQL statements per deploy. Not
 * part of the test suite: `yarn bench`.
 */
import {
  percentile,
  runBenchmark,
  startTestCluster,
  TestCluster,
} from '@paved/test-cluster';
import { benchDatabase } from './database';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { performance } from 'perf_hooks';
import { ALICE, TEAM_A, startPavedBackend } from '../src/testUtils/backend';
import { KubeClient, NAMESPACES } from '@paved/kube';

const APPS = Number(process.env.PAVED_BENCH_APPS ?? 1000);
const TENANTS = 10;
const CONCURRENCY = 16;
const GETS = 2000;
const LISTS = 200;

async function main() {
  const withCluster = process.argv.includes('--cluster');
  let cluster: TestCluster | undefined;
  let kubeconfigPath: string | undefined;
  if (withCluster) {
    cluster = await startTestCluster({
      knative: false,
      capsule: false,
      cilium: false,
    });
    kubeconfigPath = cluster.kubeconfigPath;
  }
  const db = await benchDatabase('paved_bench');
  const backend = await startPavedBackend({
    knex: db.knex,
    config: {
      paved: {
        plans: { bench: { cpu: '64', memory: '128Gi', maxApps: 1000 } },
        ...(kubeconfigPath
          ? { kubernetes: { kubeconfig: kubeconfigPath } }
          : {}),
      },
    },
  });
  const port = (backend.server.address() as any).port;
  const base = `http://127.0.0.1:${port}/api/paved`;
  const auth = backend.as(ALICE);
  const call = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(base + route, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) {
      throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
    }
    return res.json();
  };

  try {
    const admin = cluster
      ? await KubeClient.fromKubeConfig(cluster.kubeConfig)
      : undefined;
    for (let t = 0; t < TENANTS; t++) {
      await call('POST', '/tenants', {
        name: `bench-${t}`,
        displayName: `Bench ${t}`,
        owner: TEAM_A,
        plan: 'bench',
      });
      // What the operator would do: create the namespace the Apps go into.
      await admin?.create(NAMESPACES, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: `tenant-bench-${t}` },
      });
    }

    const names = Array.from({ length: APPS }, (_, i) => ({
      tenant: `bench-${i % TENANTS}`,
      app: `app-${i}`,
    }));
    // Every statement the deploys send (knex's query event), per deploy.
    let deployStatements = 0;
    const countStatement = () => deployStatements++;
    db.knex.on('query', countStatement);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < names.length) {
          const { tenant, app } = names[next++];
          await call('PUT', `/tenants/${tenant}/apps/${app}`, {
            image: `ghcr.io/acme/${app}:1.0.0`,
            env: [{ name: 'MODE', value: 'bench' }],
          });
        }
      }),
    );
    const deploySeconds = (performance.now() - started) / 1000;
    db.knex.removeListener('query', countStatement);

    const gets: number[] = [];
    for (let i = 0; i < GETS; i++) {
      const { tenant, app } = names[(i * 7919) % names.length];
      const t0 = performance.now();
      await call('GET', `/tenants/${tenant}/apps/${app}`);
      gets.push(performance.now() - t0);
    }
    const lists: number[] = [];
    for (let i = 0; i < LISTS; i++) {
      const t0 = performance.now();
      const body = await call('GET', '/apps');
      lists.push(performance.now() - t0);
      if (body.items.length !== APPS) {
        throw new Error(`list-apps returned ${body.items.length} apps`);
      }
    }
    // A page of 100, walked from the first page to the last and again.
    const pages: number[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < LISTS; i++) {
      const t0 = performance.now();
      const body = await call(
        'GET',
        `/apps?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      );
      pages.push(performance.now() - t0);
      cursor = body.nextCursor;
    }
    const tenantLists: number[] = [];
    for (let i = 0; i < LISTS; i++) {
      const t0 = performance.now();
      await call('GET', `/tenants/bench-${i % TENANTS}/apps`);
      tenantLists.push(performance.now() - t0);
    }

    const ms = (v: number) => `${v.toFixed(2)} ms`;
    console.log(
      `Paved API benchmark: ${APPS} apps in ${TENANTS} tenants, ${db.label}, ${
        cluster ? 'applied to a real kube-apiserver' : 'no cluster'
      }, ${os.cpus().length} CPUs`,
    );
    console.log(
      `deploy (PUT, ${CONCURRENCY} in flight): ${(APPS / deploySeconds).toFixed(
        1,
      )} deploys/s (target >= 100), ${(deployStatements / APPS).toFixed(
        1,
      )} SQL statements per deploy (background sync included)`,
    );
    console.log(
      `get-app   (${GETS}x): p50 ${ms(percentile(gets, 50))}, p99 ${ms(
        percentile(gets, 99),
      )} (target p99 < 10 ms)`,
    );
    console.log(
      `list-apps (${LISTS}x, all ${APPS}): p50 ${ms(
        percentile(lists, 50),
      )}, p99 ${ms(percentile(lists, 99))} (unpaged)`,
    );
    console.log(
      `list-apps paged (${LISTS}x, ?limit=100): p50 ${ms(
        percentile(pages, 50),
      )}, p99 ${ms(percentile(pages, 99))} (target p99 < 50 ms)`,
    );
    console.log(
      `list-apps of one tenant (${LISTS}x, ${APPS / TENANTS} each): p50 ${ms(
        percentile(tenantLists, 50),
      )}, p99 ${ms(percentile(tenantLists, 99))}`,
    );
  } finally {
    await backend.stop();
    await db.drop();
    await cluster?.stop();
    if (kubeconfigPath)
      fs.rmSync(path.dirname(kubeconfigPath), { force: true, recursive: true });
  }
}

runBenchmark(main);
