/* eslint-disable no-console */
/**
 * Benchmark, not a test: how long a developer waits between submitting
 * "Deploy a container image" and (a) the task page saying completed, (b) the
 * URL answering with the container's own response. Everything is real: the
 * Scaffolder backend with Paved's actions, the catalog, the Paved backend,
 * the operator (in-process) and the data plane (a node running containerd
 * and real containers, Knative Serving 1.15, Traefik) — the wiring of
 * src/templates.test.ts.
 *
 *   yarn workspace @paved/plugin-scaffolder-backend-module-paved bench [--runs 5] [--warmup 1]
 *
 * Each run deploys a new app (the example image, scale to zero allowed),
 * polls the task and, independently from the moment of submit, the app's
 * URL through the ingress, every 100 ms; then deletes the app and waits
 * until its pods are gone, so every run starts on a quiet node. Warm-up
 * runs (the first use of the image on this node) are printed, not counted.
 * Percentiles are nearest-rank: with 5 runs, p99 is the slowest run.
 */
import http from 'http';
import { APPS, KubeClient, PODS, TENANTS } from '@paved/kube';
import {
  EXAMPLE_APP_IMAGE,
  machineLoad,
  percentile,
  runBenchmark,
  startTestCluster,
  TestCluster,
} from '@paved/test-cluster';
import {
  ALICE,
  startTemplateStack,
  TEAM_A,
  TEMPLATE_DATA_PLANE,
  TemplateStack,
} from '../src/__testUtils__/templateStack';

const TENANT = 'bench';
const POLL_MS = 100;

interface Args {
  runs: number;
  warmup: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 5, warmup: 1 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = Number(argv[++i]);
    if (!Number.isInteger(value) || value < 0) {
      throw new Error(`${flag} needs a whole number`);
    }
    if (flag === '--runs' && value >= 1) args.runs = value;
    else if (flag === '--warmup') args.warmup = value;
    else throw new Error(`unknown flag ${flag}; use --runs N --warmup W`);
  }
  return args;
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** One GET through Traefik with the URL's host; no retries. */
function getThroughIngress(
  port: number,
  url: string,
): Promise<{ status: number; body: string } | undefined> {
  const { host, pathname } = new URL(url);
  return new Promise(resolve => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: pathname,
        headers: { host },
        timeout: 30_000,
      },
      res => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', chunk => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

interface Run {
  app: string;
  /** submit → the App's status says Ready for the deployed spec. */
  appReadyMs: number;
  /** submit → the task seen completed. */
  taskMs: number;
  /** submit → the URL answered with the container's greeting. */
  urlMs: number;
}

async function oneRun(
  cluster: TestCluster,
  stack: TemplateStack,
  kube: KubeClient,
  app: string,
): Promise<Run> {
  const url = `http://${app}.tenant-${TENANT}.${cluster.dataPlane!.domain}`;
  const greeting = `Hello, ${app}!`;
  let done = false;
  const submitted = await stack.submit(ALICE, 'paved-deploy-image', {
    tenant: TENANT,
    name: app,
    image: EXAMPLE_APP_IMAGE,
    port: 8080,
    env: [{ name: 'GREETING', value: app }],
    minInstances: 0,
    maxInstances: 1,
  });
  const t0 = submitted.submittedAt;
  const deadline = t0 + 360_000;
  // What a user opening the URL at once would see.
  const urlAnswered = (async () => {
    while (!done && Date.now() < deadline) {
      const res = await getThroughIngress(cluster.dataPlane!.ingressPort, url);
      if (res?.status === 200 && res.body.startsWith(greeting)) {
        return Date.now() - t0;
      }
      await sleep(POLL_MS);
    }
    throw new Error(`${url} never answered with "${greeting}"`);
  })();
  // What the cluster says, to split the wait between cluster and Scaffolder.
  const appReady = (async () => {
    while (!done && Date.now() < deadline) {
      const cr: any = await kube
        .get(APPS, app, `tenant-${TENANT}`)
        .catch(() => undefined);
      if (
        cr?.status?.phase === 'Ready' &&
        cr.status.observedGeneration === cr.metadata.generation
      ) {
        return Date.now() - t0;
      }
      await sleep(POLL_MS);
    }
    throw new Error(`${app} never Ready`);
  })();
  try {
    const run = await stack.finish(ALICE, submitted, { pollMs: POLL_MS });
    if (run.task.status !== 'completed') {
      throw new Error(`task ${run.id} ${run.task.status}:\n${run.log}`);
    }
    const [urlMs, appReadyMs] = await Promise.all([urlAnswered, appReady]);
    return { app, appReadyMs, taskMs: run.durationMs, urlMs };
  } finally {
    done = true;
    await Promise.allSettled([urlAnswered, appReady]);
    await removeApp(stack, kube, app);
  }
}

async function removeApp(
  stack: TemplateStack,
  kube: KubeClient,
  app: string,
): Promise<void> {
  await stack.api
    .delete(`/api/paved/tenants/${TENANT}/apps/${app}`)
    .set('authorization', stack.as(ALICE));
  const deadline = Date.now() + 180_000;
  for (;;) {
    const pods = await kube.list(PODS, {
      namespace: `tenant-${TENANT}`,
      labelSelector: `serving.knative.dev/service=${app}`,
    });
    if (pods.items.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`the pods of ${app} were not gone after 180 s`);
    }
    await sleep(500);
  }
}

const ms = (n: number) => `${(n / 1000).toFixed(2)} s`.padStart(9);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  console.log(
    `bench: "Deploy a container image" → task completed / URL answering, ${args.runs} runs (+${args.warmup} warm-up) on the real data plane`,
  );
  console.log(
    `machine: ${machineLoad()} at start, ${new Date().toISOString()}`,
  );
  const clusterStarted = Date.now();
  const cluster = await startTestCluster({
    dataPlane: TEMPLATE_DATA_PLANE,
    timeoutMs: 180_000,
    log: line => {
      if (/waiting \d+ s for the real node/.test(line)) console.log(line);
    },
  });
  console.log(
    `data plane up in ${ms(
      Date.now() - clusterStarted,
    ).trim()} (including any wait for the node lock)`,
  );
  let stack: TemplateStack | undefined;
  const kube = await KubeClient.fromKubeConfig(cluster.kubeConfig);
  try {
    stack = await startTemplateStack(cluster);

    const tenant = await stack.runTemplate(ALICE, 'paved-create-tenant', {
      name: TENANT,
      displayName: 'Bench',
      owner: TEAM_A,
      plan: 'starter',
    });
    if (tenant.task.status !== 'completed') {
      throw new Error(`creating the tenant failed:\n${tenant.log}`);
    }
    for (const started = Date.now(); ; ) {
      const t: any = await kube.get(TENANTS, TENANT).catch(() => undefined);
      if (t?.status?.phase === 'Active') break;
      if (Date.now() - started > 120_000) throw new Error('tenant not Active');
      await sleep(POLL_MS);
    }
    console.log(
      `"Create a tenant": task completed in ${ms(tenant.durationMs).trim()}\n`,
    );

    const runs: Run[] = [];
    const header = `${'run'.padEnd(12)}${'App Ready'.padStart(
      11,
    )}${'task done'.padStart(11)}${'URL answers'.padStart(13)}`;
    console.log(`${header}   (each from submit)`);
    for (let i = 0; i < args.warmup + args.runs; i++) {
      const warm = i < args.warmup;
      const app = warm ? `warmup-${i + 1}` : `run-${i - args.warmup + 1}`;
      const run = await oneRun(cluster, stack, kube, app);
      if (!warm) runs.push(run);
      console.log(
        `${(warm ? `${app} *` : app).padEnd(12)}${ms(run.appReadyMs).padStart(
          11,
        )}${ms(run.taskMs).padStart(11)}${ms(run.urlMs).padStart(13)}`,
      );
    }
    if (args.warmup) console.log('* warm-up, not counted');

    const row = (name: string, values: number[]) =>
      `${name.padEnd(46)}${ms(percentile(values, 50))}${ms(
        percentile(values, 99),
      )}${ms(Math.min(...values))}${ms(Math.max(...values))}`;
    console.log(
      `\n${''.padEnd(46)}${'p50'.padStart(9)}${'p99'.padStart(
        9,
      )}${'min'.padStart(9)}${'max'.padStart(9)}   (n=${runs.length})`,
    );
    const appReady = runs.map(r => r.appReadyMs);
    const task = runs.map(r => r.taskMs);
    const url = runs.map(r => r.urlMs);
    console.log(row('submit → App Ready (operator + Knative)', appReady));
    console.log(row('submit → task completed', task));
    console.log(row('submit → URL answers from the container', url));
    console.log(
      row(
        'task completed − App Ready (action, backend)',
        runs.map(r => r.taskMs - r.appReadyMs),
      ),
    );
    console.log(
      `\nratio task completed / App Ready (p50)     ${(
        percentile(task, 50) / percentile(appReady, 50)
      ).toFixed(2)}`,
    );
    console.log(`machine: ${machineLoad()} at end`);
  } finally {
    kube.close();
    await stack?.stop();
    await cluster.stop();
  }
}

runBenchmark(main);
