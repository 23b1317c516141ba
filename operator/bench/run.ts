/**
 * Benchmark, not a test: N tenants with M apps each, provisioned by the
 * operator, then the same objects written directly by a plain client loop at
 * the same concurrency (the floor). Prints latencies, the operator's API
 * requests, memory and CPU, deletion of everything, and the ratios.
 *
 * By default it runs on real Knative Serving: the test cluster's data plane
 * (Knative's controller, webhook, autoscaler and activator on the real node,
 * Traefik as the networking layer), with the apps' pods placed on a KWOK
 * node (sigs.k8s.io/kwok marks them Running and Ready; no container runs)
 * because one real node cannot hold hundreds of them. An App is done when
 * it is Ready, and its create → Ready is split into the operator's share
 * (App created → Knative Service applied; Knative Service Ready → App Ready)
 * and Knative's (applied → Ready). `--no-knative` runs on the control plane
 * alone: an App is done once its Knative Service is applied.
 *
 *   yarn workspace @paved/operator bench [--tenants 100] [--apps 5]
 *     [--concurrency 8] [--no-direct] [--no-knative] [--no-delete]
 *     [--bare-crs]
 *
 * The CRs are written as the backend writes them, with the operator's
 * finalizer; `--bare-crs` leaves it out (a CR from kubectl or another
 * writer), so the operator adds it with a request of its own.
 *
 * The operator runs as a child process (the bundle of src/main.ts, as in the
 * image), so its RSS is its own. `OPERATOR_BUNDLE=<main.js>` runs another
 * build instead (the previous commit's, to compare in one sitting).
 * Percentiles are nearest-rank.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import {
  EXAMPLE_APP_IMAGE,
  Kwok,
  KWOK_NODE_LABEL,
  machineLoad,
  percentile,
  rssKiB,
  runBenchmark,
  startKwok,
  startTestCluster,
  wholeNumberFlag,
  freePorts,
} from '@paved/test-cluster';
import path from 'node:path';
import { spawnBundledOperator } from '../src/__testUtils__/imageRuntime';
import {
  FIELD_MANAGER_BACKEND,
  FINALIZER_APP,
  FINALIZER_TENANT,
  LABEL_MANAGED_BY,
  MANAGED_BY_PAVED,
} from '@paved/plugin-paved-common';
import {
  KubeClient,
  Informer,
  APPS,
  CAPSULE_TENANTS,
  CILIUM_NETWORK_POLICIES,
  KNATIVE_SERVICES,
  KubeObject,
  LIMIT_RANGES,
  NAMESPACES,
  NODES,
  RESOURCE_QUOTAS,
  TENANTS,
} from '@paved/kube';
import { DEFAULT_DESIRED_STATE_CONFIG } from '../src/desired/config';
import { desiredNamespace } from '../src/desired/namespace';
import { desiredCapsuleTenant } from '../src/desired/rbac';
import { desiredCiliumNetworkPolicy } from '../src/desired/networkPolicy';
import { desiredLimitRange, desiredResourceQuota } from '../src/desired/quota';
import { desiredKnativeService } from '../src/desired/knativeService';
import { knativeReadyForGeneration } from '../src/desired/appStatus';
import {
  appSpecSchema,
  AppResource,
  tenantSpecSchema,
  TenantResource,
} from '@paved/plugin-paved-common';

interface Args {
  tenants: number;
  apps: number;
  concurrency: number;
  direct: boolean;
  knative: boolean;
  delete: boolean;
  /** Write the CRs without the operator's finalizer (as kubectl would). */
  bareCrs: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    tenants: 100,
    apps: 5,
    concurrency: 8,
    direct: true,
    knative: true,
    delete: true,
    bareCrs: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const number = () => wholeNumberFlag(flag, argv[++i]);
    if (flag === '--tenants') args.tenants = number();
    else if (flag === '--apps') args.apps = number();
    else if (flag === '--concurrency') args.concurrency = number();
    else if (flag === '--no-direct') args.direct = false;
    else if (flag === '--no-knative') args.knative = false;
    else if (flag === '--no-delete') args.delete = false;
    else if (flag === '--bare-crs') args.bareCrs = true;
    else
      throw new Error(
        `unknown flag ${flag}; use --tenants N --apps M --concurrency C --no-direct --no-knative --no-delete --bare-crs`,
      );
  }
  return args;
}

async function pool<T>(
  items: T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++];
        await work(item);
      }
    }),
  );
}

/** Waits until `done()` or throws after `timeoutMs`, saying how far it got. */
async function until(
  done: () => boolean,
  timeoutMs: number,
  what: string,
  progress?: () => string,
) {
  const deadline = Date.now() + timeoutMs;
  let reported = Date.now();
  while (!done()) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${progress ? ` (${progress()})` : ''}`,
      );
    }
    if (progress && Date.now() - reported > 15_000) {
      reported = Date.now();
      console.log(`  … waiting for ${what}: ${progress()}`);
    }
    await new Promise(r => setTimeout(r, 20));
  }
}

/** The operator's /metrics page, read once for every figure taken at one moment. */
async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** The sum of every series of `name` on a scraped page. */
function metric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

/**
 * `controller_runtime_reconcile_time_seconds` by controller: cumulative
 * count per bucket's upper bound (seconds).
 */
function reconcileTimes(text: string): Map<string, Map<number, number>> {
  const byController = new Map<string, Map<number, number>>();
  const bucket =
    /^controller_runtime_reconcile_time_seconds_bucket\{(?=[^}]*controller="([^"]+)")(?=[^}]*le="([^"]+)")[^}]*\} (\S+)$/;
  for (const line of text.split('\n')) {
    const m = bucket.exec(line);
    if (!m) continue;
    const buckets = byController.get(m[1]) ?? new Map<number, number>();
    buckets.set(m[2] === '+Inf' ? Infinity : Number(m[2]), Number(m[3]));
    byController.set(m[1], buckets);
  }
  return byController;
}

/**
 * The upper bound of the bucket holding quantile `q` of what was observed
 * between two scrapes (a histogram's answer: "at most").
 */
function bucketQuantile(
  before: Map<number, number> | undefined,
  after: Map<number, number> | undefined,
  q: number,
): number {
  if (!after) return NaN;
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const count = (le: number) => after.get(le)! - (before?.get(le) ?? 0);
  const total = count(Infinity);
  if (!(total > 0)) return NaN;
  return bounds.find(le => count(le) >= q * total) ?? Infinity;
}

function cpuSeconds(pid: number): number {
  const fields = fs
    .readFileSync(`/proc/${pid}/stat`, 'utf8')
    .split(') ')[1]
    .split(' ');
  // utime and stime, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const rssMiB = (pid: number) => rssKiB(pid) / 1024;

/** The operator's API requests so far, by `method resource`. */
function apiRequests(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(
    /^paved_api_requests_total\{method="(\w+)",resource="([^"]*)"\} (\d+)/gm,
  )) {
    counts.set(`${m[1]} ${m[2]}`, Number(m[3]));
  }
  return counts;
}

/** `after − before`, the non-zero ones, and their sum. */
function requestsBetween(
  before: Map<string, number>,
  after: Map<string, number>,
): { total: number; text: string } {
  const delta = [...after.entries()]
    .map(([k, n]) => [k, n - (before.get(k) ?? 0)] as const)
    .filter(([, n]) => n > 0);
  return {
    total: delta.reduce((sum, [, n]) => sum + n, 0),
    text: delta.map(([k, n]) => `${k}: ${n}`).join(', '),
  };
}

/** A Tenant's children besides its namespace: quota, LimitRange, RBAC, policy. */
const TENANT_CHILD_OBJECTS = 4;

/** Objects of Paved's kinds still there for tenants named `prefix…`. */
async function leftovers(client: KubeClient, prefix: string): Promise<number> {
  let count = 0;
  for (const type of [
    NAMESPACES,
    APPS,
    KNATIVE_SERVICES,
    RESOURCE_QUOTAS,
    LIMIT_RANGES,
    CILIUM_NETWORK_POLICIES,
  ]) {
    const { items } = await client.list(type);
    count += items.filter(o =>
      (o.metadata.namespace ?? o.metadata.name).startsWith(`tenant-${prefix}`),
    ).length;
  }
  for (const type of [CAPSULE_TENANTS, TENANTS]) {
    const { items } = await client.list(type);
    count += items.filter(o => o.metadata.name.startsWith(prefix)).length;
  }
  return count;
}

/** Real nodes take no new pods: the apps' pods go to the KWOK node. */
async function cordonRealNodes(client: KubeClient): Promise<string[]> {
  const { items } = await client.list(NODES);
  const real = items.filter(n => !n.metadata.labels?.[KWOK_NODE_LABEL]);
  for (const node of real) {
    await client.mergePatch(NODES, node.metadata.name, undefined, {
      spec: { unschedulable: true },
    });
  }
  return real.map(n => n.metadata.name);
}

const ms = (n: number) => `${n.toFixed(0)} ms`;
const p50p99 = (values: number[]) =>
  `p50 ${ms(percentile(values, 50))}  p99 ${ms(percentile(values, 99))}`;
const line = (label: string, value: string) =>
  console.log(`  ${label.padEnd(34)} ${value}`);

/** First sight of each milestone of each object, by `namespace/name`. */
class Milestones {
  readonly at = new Map<string, Map<string, number>>();

  mark(milestone: string, key: string, time = Date.now()): void {
    let byKey = this.at.get(milestone);
    if (!byKey) this.at.set(milestone, (byKey = new Map()));
    if (!byKey.has(key)) byKey.set(key, time);
  }

  has(milestone: string, key: string): boolean {
    return this.at.get(milestone)?.has(key) ?? false;
  }

  count(milestone: string): number {
    return this.at.get(milestone)?.size ?? 0;
  }

  /** `to − from` for every key that reached both. */
  between(from: string, to: string, keys: string[]): number[] {
    return keys
      .filter(k => this.has(from, k) && this.has(to, k))
      .map(k => this.at.get(to)!.get(k)! - this.at.get(from)!.get(k)!);
  }
}

const keyOf = (o: KubeObject) =>
  `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function knativeReady(o: KubeObject): boolean {
  return knativeReadyForGeneration(o) === 'True';
}

function tenantSpec(name: string, apps: number) {
  return tenantSpecSchema.parse({
    displayName: name,
    owner: 'group:default/bench',
    plan: 'pro',
    // The most a tenant may have: with the apps' small requests (below),
    // quota holds no pod back, even of 1,000 apps in one tenant.
    limits: { cpu: '64', memory: '256Gi', maxApps: Math.min(apps, 1000) },
  });
}

function appSpec(app: string, knative: boolean) {
  return appSpecSchema.parse({
    // Knative resolves no tag under the local registry; a KWOK pod pulls
    // nothing.
    image: knative ? EXAMPLE_APP_IMAGE : `ghcr.io/acme/${app}:1.0.0`,
    port: 8080,
    resources: { cpu: '25m', memory: '32Mi' },
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const total = args.tenants * args.apps;
  console.log(
    `bench: ${args.tenants} tenants x ${
      args.apps
    } apps = ${total} apps, concurrency ${args.concurrency}, ${
      args.knative
        ? 'real Knative Serving (pods on a KWOK node)'
        : 'control plane only (no Knative controller)'
    }, CRs ${args.bareCrs ? 'without' : 'with'} the operator's finalizer`,
  );
  console.log(
    `machine: ${machineLoad()} at start, ${new Date().toISOString()}`,
  );
  const cluster = await startTestCluster({
    timeoutMs: 180_000,
    dataPlane: args.knative
      ? {
          // The pods stay while the figures are taken (KWOK pods serve no
          // request, so the autoscaler would take them all to zero).
          autoscaler: { 'enable-scale-to-zero': 'false' },
          progressDeadline: '600s',
        }
      : undefined,
    log: l => {
      if (/waiting \d+ s for the real node/.test(l)) console.log(l);
    },
  });
  const client = await KubeClient.fromKubeConfig(cluster.kubeConfig, {
    maxSockets: 128,
  });
  let operator: ChildProcess | undefined;
  let kwok: Kwok | undefined;
  const informers: Informer[] = [];
  try {
    if (args.knative) {
      kwok = await startKwok(cluster, { log: l => console.log(l) });
      const cordoned = await cordonRealNodes(client);
      console.log(
        `real node ${cordoned.join(
          ', ',
        )} cordoned (Knative's own pods stay); apps' pods go to ${kwok.nodeNames.join(
          ', ',
        )}`,
      );
    }
    // ------------------------------------------------------------- operator
    const [port] = await freePorts(1);
    // The bundle `yarn bench` builds, run as the image runs it.
    operator = spawnBundledOperator(
      process.env.OPERATOR_BUNDLE ??
        path.join(__dirname, '..', 'dist', 'bundle', 'main.js'),
      {
        kubeconfigPath: cluster.kubeconfigPath,
        port,
        env: { PAVED_CONCURRENCY: String(args.concurrency) },
      },
    );
    // Ctrl-C or a kill stops the operator too (the cluster has its reaper).
    const child = operator;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        child.kill('SIGKILL');
        process.exit(130);
      });
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error('operator did not become ready');
      await new Promise(r => setTimeout(r, 100));
    }
    const rssIdle = rssMiB(operator.pid!);

    const seen = new Milestones();
    const tenantInformer = new Informer(client, { type: TENANTS });
    tenantInformer.addHandlers({
      add: o => {
        if ((o.status as any)?.phase === 'Active')
          seen.mark('active', keyOf(o));
      },
      update: (_o, n) => {
        if ((n.status as any)?.phase === 'Active')
          seen.mark('active', keyOf(n));
      },
      delete: o => seen.mark('tenantGone', o.metadata.name),
    });
    const ksvcInformer = new Informer(client, {
      type: KNATIVE_SERVICES,
      labelSelector: 'paved.dev/app',
    });
    const onKsvc = (o: KubeObject) => {
      seen.mark('applied', keyOf(o));
      if (knativeReady(o)) seen.mark('knativeReady', keyOf(o));
    };
    ksvcInformer.addHandlers({ add: onKsvc, update: (_o, n) => onKsvc(n) });
    const appInformer = new Informer(client, { type: APPS });
    const onApp = (o: KubeObject) => {
      const status = o.status as any;
      if (
        status?.phase === 'Ready' &&
        status.observedGeneration === o.metadata.generation
      )
        seen.mark('ready', keyOf(o));
    };
    appInformer.addHandlers({ add: onApp, update: (_o, n) => onApp(n) });
    const namespaceInformer = new Informer(client, {
      type: NAMESPACES,
      labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY_PAVED}`,
    });
    namespaceInformer.addHandlers({
      delete: o => seen.mark('namespaceGone', o.metadata.name),
    });
    informers.push(
      tenantInformer,
      ksvcInformer,
      appInformer,
      namespaceInformer,
    );
    for (const i of informers) i.start();
    await Promise.all(informers.map(i => i.waitForSync()));

    const atStart = await scrape(port);
    const reconcilesBefore = metric(
      atStart,
      'controller_runtime_reconcile_total',
    );
    const requestsAtStart = apiRequests(atStart);
    const reconcileTimesAtStart = reconcileTimes(atStart);
    const tenantNames = Array.from(
      { length: args.tenants },
      (_, i) => `bench-${i}`,
    );
    const start = Date.now();
    await pool(tenantNames, args.concurrency, async name => {
      seen.mark('created', `/${name}`);
      await client.apply(
        TENANTS,
        {
          apiVersion: 'paved.dev/v1alpha1',
          kind: 'Tenant',
          // With the operator's finalizer, as the backend applies it.
          metadata: {
            name,
            ...(args.bareCrs ? {} : { finalizers: [FINALIZER_TENANT] }),
          },
          spec: tenantSpec(name, args.apps),
        },
        { fieldManager: FIELD_MANAGER_BACKEND },
      );
    });
    await until(
      () => tenantNames.every(n => seen.has('active', `/${n}`)),
      600_000,
      'tenants Active',
      () => `${seen.count('active')} of ${args.tenants}`,
    );
    const tenantsDone = Date.now();
    const requestsAfterTenants = apiRequests(await scrape(port));
    const appKeys: string[] = [];
    for (const t of tenantNames)
      for (let a = 0; a < args.apps; a++) appKeys.push(`tenant-${t}/app-${a}`);
    const appsStart = Date.now();
    await pool(appKeys, args.concurrency, async key => {
      const [ns, app] = key.split('/');
      seen.mark('created', key);
      await client.apply(
        APPS,
        {
          apiVersion: 'paved.dev/v1alpha1',
          kind: 'App',
          metadata: {
            name: app,
            namespace: ns,
            ...(args.bareCrs ? {} : { finalizers: [FINALIZER_APP] }),
          },
          spec: appSpec(app, args.knative),
        },
        { fieldManager: FIELD_MANAGER_BACKEND },
      );
    });
    const done = args.knative ? 'ready' : 'applied';
    await until(
      () => appKeys.every(k => seen.has(done, k)),
      1_800_000,
      args.knative ? 'Apps Ready' : 'Knative Services applied',
      () =>
        `${seen.count('applied')} Services applied, ${seen.count(
          'knativeReady',
        )} Ready in Knative, ${seen.count('ready')} Apps Ready of ${total}`,
    );
    const end = Date.now();
    // Late status writes of the last apps count too.
    await new Promise(r => setTimeout(r, 2000));
    const atEnd = await scrape(port);
    const reconciles =
      metric(atEnd, 'controller_runtime_reconcile_total') - reconcilesBefore;
    const reconcileTimesAtEnd = reconcileTimes(atEnd);
    const tenantRequests = requestsBetween(
      requestsAtStart,
      requestsAfterTenants,
    );
    const appRequests = requestsBetween(
      requestsAfterTenants,
      apiRequests(atEnd),
    );
    const tenantKeys = tenantNames.map(n => `/${n}`);
    const rss = rssMiB(operator.pid!);
    const mib = (name: string) => metric(atEnd, name) / 2 ** 20;
    const heapUsed = mib('nodejs_heap_size_used_bytes');
    const heapTotal = mib('nodejs_heap_size_total_bytes');
    const external = mib('nodejs_external_memory_bytes');
    const cpu = cpuSeconds(operator.pid!);
    const operatorTotal = end - start;
    const operatorAppsTotal = end - appsStart;
    console.log('\noperator');
    line(
      'time to all done',
      `${ms(operatorTotal)} (tenants Active after ${ms(
        tenantsDone - start,
      )}, then apps ${ms(operatorAppsTotal)})`,
    );
    line(
      'tenant create → Active',
      p50p99(seen.between('created', 'active', tenantKeys)),
    );
    if (args.knative) {
      const own1 = seen.between('created', 'applied', appKeys);
      const own2 = seen.between('knativeReady', 'ready', appKeys);
      const ownKeys = appKeys.filter(
        k => seen.has('applied', k) && seen.has('ready', k),
      );
      const own = ownKeys.map(
        k =>
          seen.between('created', 'applied', [k])[0] +
          seen.between('knativeReady', 'ready', [k])[0],
      );
      line(
        'app create → Ready',
        p50p99(seen.between('created', 'ready', appKeys)),
      );
      line('  operator: App → Service applied', p50p99(own1));
      line(
        '  Knative: applied → Ready',
        p50p99(seen.between('applied', 'knativeReady', appKeys)),
      );
      line('  operator: Knative Ready → App Ready', p50p99(own2));
      line("  operator's own share (sum)", p50p99(own));
    } else {
      line(
        'app create → Service applied',
        p50p99(seen.between('created', 'applied', appKeys)),
      );
    }
    line(
      'reconciles',
      `${reconciles} (${(reconciles / (operatorTotal / 1000)).toFixed(0)}/s)`,
    );
    // The operator's own time per reconcile, without the wait in its queue.
    for (const controller of ['tenant', 'app']) {
      const [p50, p99] = [0.5, 0.99].map(q =>
        bucketQuantile(
          reconcileTimesAtStart.get(controller),
          reconcileTimesAtEnd.get(controller),
          q,
        ),
      );
      line(
        `  ${controller} reconcile time (no queue)`,
        `p50 ≤ ${p50 * 1000} ms  p99 ≤ ${p99 * 1000} ms (histogram buckets)`,
      );
    }
    line(
      'operator RSS',
      `${rss.toFixed(0)} MiB with ${total} apps, ${rssIdle.toFixed(
        0,
      )} MiB idle (JS heap ${heapUsed.toFixed(
        0,
      )} MiB used of ${heapTotal.toFixed(0)}, external ${external.toFixed(
        0,
      )} MiB)`,
    );
    line('operator CPU', `${cpu.toFixed(1)} s`);
    line(
      'API requests, tenants',
      `${tenantRequests.total} (${(tenantRequests.total / args.tenants).toFixed(
        2,
      )} per tenant): ${tenantRequests.text}`,
    );
    line(
      'API requests, apps',
      `${appRequests.total} (${(appRequests.total / total).toFixed(
        2,
      )} per app, with the tenants' app-count updates): ${appRequests.text}`,
    );

    // ------------------------------------------------------------- deletion
    // Every Tenant deleted at once, as a platform team retiring them would:
    // time until all are gone, the operator's requests for it, the order
    // (a Tenant must outlive its namespace) and what is left behind.
    let deleteTotal = NaN;
    if (args.delete) {
      const requestsBefore = apiRequests(await scrape(port));
      const deleteStart = Date.now();
      await pool(tenantNames, args.concurrency, async name => {
        await client.delete(TENANTS, name);
      });
      await until(
        () => tenantNames.every(n => seen.has('tenantGone', n)),
        1_200_000,
        'tenants deleted',
        () =>
          `${seen.count('namespaceGone')} namespaces and ${seen.count(
            'tenantGone',
          )} Tenants gone of ${args.tenants}`,
      );
      deleteTotal = Date.now() - deleteStart;
      const deleted = requestsBetween(
        requestsBefore,
        apiRequests(await scrape(port)),
      );
      const outOfOrder = tenantNames.filter(n => {
        const namespaceGone = seen.at.get('namespaceGone')?.get(`tenant-${n}`);
        return (
          namespaceGone === undefined ||
          namespaceGone > seen.at.get('tenantGone')!.get(n)!
        );
      }).length;
      const left = await leftovers(client, 'bench-');
      // Each Tenant, its namespace and children, each App and its Service.
      const objects = args.tenants * (2 + TENANT_CHILD_OBJECTS) + total * 2;
      console.log('\ndeletion (all tenants deleted at once)');
      line('time to all gone', ms(deleteTotal));
      line(
        'API requests',
        `${deleted.total} (${(deleted.total / objects).toFixed(
          2,
        )} per object, ${objects} objects): ${deleted.text}`,
      );
      line('Tenants gone before their namespace', String(outOfOrder));
      line('objects left over', String(left));
    }
    for (const i of informers.splice(0)) await i.stop();
    operator.kill('SIGTERM');
    await new Promise(r => operator!.once('exit', r));
    operator = undefined;

    if (!args.direct) return;
    // --------------------------------------------------------------- direct
    const floors = [];
    for (const crs of [false, true]) {
      const direct = await directFloor(client, args, crs);
      floors.push(direct);
      console.log(
        `\ndirect${
          crs ? ' with the CRs' : ''
        } (plain client loop, the same objects${
          crs ? ' and the Tenant and App CRs the driver writes' : ''
        }, the same concurrency${
          args.knative ? ', done when Knative says Ready' : ''
        })`,
      );
      line(
        'time to all done',
        `${ms(direct.total)} (apps ${ms(direct.appsTotal)})`,
      );
      line(
        crs ? 'Tenant CR and children applied' : 'tenant children applied',
        p50p99(direct.tenantLatencies),
      );
      line(
        'tenant done, from the burst start',
        p50p99(direct.tenantsDoneAfterStart),
      );
      line(
        `${crs ? 'App CR and ' : ''}${
          args.knative ? 'Service apply → Ready' : 'Service apply'
        }`,
        p50p99(direct.appLatencies),
      );
      if (args.delete) {
        line('deletion: time to all gone', ms(direct.deleteTotal));
      }
    }
    for (const [i, direct] of floors.entries()) {
      console.log(`\nratio operator/direct${i ? ' with the CRs' : ''}`);
      line('all done', `${(operatorTotal / direct.total).toFixed(2)}`);
      line('apps done', `${(operatorAppsTotal / direct.appsTotal).toFixed(2)}`);
      if (args.delete)
        line('deletion', `${(deleteTotal / direct.deleteTotal).toFixed(2)}`);
    }
    console.log(`\nmachine: ${machineLoad()} at end`);
  } finally {
    for (const i of informers) await i.stop();
    if (operator) {
      operator.kill('SIGTERM');
      await new Promise(r => operator!.once('exit', r));
    }
    await kwok?.stop();
    client.close();
    await cluster.stop();
  }
}

/**
 * The floor: each tenant's children applied in order, then each app's
 * Knative Service, by a plain loop at the same concurrency; with Knative,
 * done once Knative says each Service is Ready. Then each namespace (its
 * children and Services go with it) and Capsule tenant deleted once and
 * waited for. With `crs`, the loop also writes what the benchmark's driver
 * writes for the operator (each Tenant CR before its children, each App CR
 * before its Service; no operator runs then, so nothing reads them): the
 * same workload as the operator's run, less what the operator adds (its
 * status writes, Events and queueing).
 */
async function directFloor(client: KubeClient, args: Args, crs: boolean) {
  const config = DEFAULT_DESIRED_STATE_CONFIG;
  const tenantLatencies: number[] = [];
  // When each tenant was done, from the start of the burst: what "create →
  // Active at N concurrent" is for a loop that writes them all.
  const tenantsDoneAfterStart: number[] = [];
  const label = crs ? 'directcr' : 'direct';
  const start = Date.now();
  const names = Array.from({ length: args.tenants }, (_, i) => `${label}-${i}`);
  await pool(names, args.concurrency, async name => {
    const t0 = Date.now();
    const tenant: TenantResource = {
      apiVersion: 'paved.dev/v1alpha1',
      kind: 'Tenant',
      metadata: { name },
      spec: tenantSpec(name, args.apps),
    };
    if (crs) {
      await client.apply(TENANTS, tenant as unknown as KubeObject, {
        fieldManager: FIELD_MANAGER_BACKEND,
      });
    }
    await client.apply(
      NAMESPACES,
      desiredNamespace(tenant, config, { capsule: true }),
    );
    await client.apply(CAPSULE_TENANTS, desiredCapsuleTenant(tenant, config));
    await client.apply(
      CILIUM_NETWORK_POLICIES,
      desiredCiliumNetworkPolicy(tenant, config),
    );
    await client.apply(RESOURCE_QUOTAS, desiredResourceQuota(tenant, config));
    await client.apply(LIMIT_RANGES, desiredLimitRange(tenant, config));
    tenantLatencies.push(Date.now() - t0);
    tenantsDoneAfterStart.push(Date.now() - start);
  });
  const started = new Map<string, number>();
  const applied = new Map<string, number>();
  const ready = new Map<string, number>();
  const informer = new Informer(client, {
    type: KNATIVE_SERVICES,
    labelSelector: `bench=${label}`,
  });
  const onKsvc = (o: KubeObject) => {
    if (knativeReady(o) && !ready.has(keyOf(o)))
      ready.set(keyOf(o), Date.now());
  };
  informer.addHandlers({ add: onKsvc, update: (_o, n) => onKsvc(n) });
  informer.start();
  await informer.waitForSync();
  const keys: string[] = [];
  for (const t of names)
    for (let a = 0; a < args.apps; a++) keys.push(`tenant-${t}/app-${a}`);
  const appsStart = Date.now();
  try {
    await pool(keys, args.concurrency, async key => {
      const [ns, name] = key.split('/');
      const app: AppResource = {
        apiVersion: 'paved.dev/v1alpha1',
        kind: 'App',
        metadata: { name, namespace: ns },
        spec: appSpec(name, args.knative),
      };
      const ksvc = desiredKnativeService(
        ns.slice('tenant-'.length),
        app,
        app.spec,
      );
      ksvc.metadata.labels = { ...ksvc.metadata.labels, bench: label };
      started.set(key, Date.now());
      if (crs) {
        await client.apply(APPS, app as unknown as KubeObject, {
          fieldManager: FIELD_MANAGER_BACKEND,
        });
      }
      await client.apply(KNATIVE_SERVICES, ksvc);
      applied.set(key, Date.now());
    });
    if (args.knative) {
      await until(
        () => keys.every(k => ready.has(k)),
        1_800_000,
        'direct Services Ready',
        () => `${ready.size} of ${keys.length}`,
      );
    }
  } finally {
    await informer.stop();
  }
  const end = Date.now();
  const appLatencies = keys.map(
    k => (args.knative ? ready : applied).get(k)! - started.get(k)!,
  );

  let deleteTotal = NaN;
  if (args.delete) {
    const deleteStart = Date.now();
    await pool(names, args.concurrency, async name => {
      await client.delete(NAMESPACES, `tenant-${name}`);
      await client.delete(CAPSULE_TENANTS, name);
      if (crs) await client.delete(TENANTS, name);
    });
    for (;;) {
      const { items } = await client.list(NAMESPACES);
      if (!items.some(n => n.metadata.name.startsWith(`tenant-${label}-`)))
        break;
      await new Promise(r => setTimeout(r, 100));
    }
    deleteTotal = Date.now() - deleteStart;
  }
  return {
    total: end - start,
    appsTotal: end - appsStart,
    tenantLatencies,
    tenantsDoneAfterStart,
    appLatencies,
    deleteTotal,
  };
}

runBenchmark(main);
