/* eslint-disable no-console */
/**
 * Benchmark, not a test: Paved on the real data plane of
 * @paved/test-cluster (a node with containerd, kubelet, kube-scheduler and
 * kube-proxy running real containers; CoreDNS; Knative Serving 1.15;
 * Traefik), with the operator running as its bundle (dist/bundle/main.js,
 * as in the image) in a child process. Prints:
 *
 * - create → Ready of N apps (default 20, one tenant per 5, plan starter,
 *   50m/64Mi, minInstances 0), created one at a time, split into the
 *   operator's share and Knative's; the same Knative Services applied
 *   directly (no Paved) as the floor; and the N apps created at once;
 * - cold start from zero: with no pod left, request → first byte through
 *   the ingress (the activator holds it while a pod starts), against a warm
 *   request to the same app right after as the floor;
 * - memory of the data plane — node processes (VmRSS) and the Knative and
 *   CoreDNS pods (their cgroup's memory.usage_in_bytes, and the working set
 *   the kubelet reports: usage − inactive file cache) — at rest, with the N
 *   apps scaled to zero, and with the N apps running (minInstances 1).
 *
 *   yarn workspace @paved/operator bench:data-plane [--apps 20]
 *     [--apps-per-tenant 5] [--cold 10] [--settle 30] [--no-direct]
 *     [--no-burst]
 *
 * One data plane runs per machine: this waits for the node lock like the
 * tests do. Percentiles are nearest-rank (p99 of 20 samples is the slowest).
 */
import type { ChildProcess } from 'node:child_process';
import {
  machineLoad,
  percentile,
  rssKiB,
  runBenchmark,
  wholeNumberFlag,
  startTestCluster,
  EXAMPLE_APP_IMAGE,
  freePorts,
} from '@paved/test-cluster';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  FIELD_MANAGER_BACKEND,
  FINALIZER_APP,
  FINALIZER_TENANT,
} from '@paved/plugin-paved-common';
import {
  KubeClient,
  Informer,
  APPS,
  KNATIVE_SERVICES,
  KubeObject,
  NAMESPACES,
  ResourceType,
  TENANTS,
} from '@paved/kube';
import { desiredRevisionTemplate } from '../src/desired/knativeService';
import { spawnBundledOperator } from '../src/__testUtils__/imageRuntime';
import { appSpecSchema } from '@paved/plugin-paved-common';

const PODS: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'pods',
  kind: 'Pod',
  namespaced: true,
};

const RESOURCES = { cpu: '50m', memory: '64Mi' };

/** When the benchmark's pod watch first saw each step of an app pod. */
interface PodSteps {
  namespace: string;
  service: string;
  created: number;
  scheduled?: number;
  running?: number;
  ready?: number;
}

/** One cold start, step by step (ms). */
interface ColdSteps {
  podCreated: number;
  scheduled: number;
  running: number;
  ready: number;
  answered: number;
}
const DIRECT_NAMESPACE = 'bench-direct';
const CONTROL_PLANE = ['etcd', 'kube-apiserver', 'kube-controller-manager'];

interface Args {
  apps: number;
  perTenant: number;
  cold: number;
  settleSeconds: number;
  direct: boolean;
  burst: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    apps: 20,
    perTenant: 5,
    cold: 10,
    settleSeconds: 30,
    direct: true,
    burst: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const number = () => wholeNumberFlag(flag, argv[++i]);
    if (flag === '--apps') args.apps = number();
    else if (flag === '--apps-per-tenant') args.perTenant = number();
    else if (flag === '--cold') args.cold = number();
    else if (flag === '--settle') args.settleSeconds = number();
    else if (flag === '--no-direct') args.direct = false;
    else if (flag === '--no-burst') args.burst = false;
    else
      throw new Error(
        `unknown flag ${flag}; use --apps N --apps-per-tenant M --cold C --settle S --no-direct --no-burst`,
      );
  }
  if (args.perTenant > 5) {
    // Each tenant also holds the burst phase's apps; starter allows 10.
    throw new Error('--apps-per-tenant is at most 5 (plan starter: 10 apps)');
  }
  return args;
}

// ------------------------------------------------------------------ figures

function secs(n: number): string {
  if (Number.isNaN(n)) return '—';
  if (n >= 10_000) return `${(n / 1000).toFixed(1)} s`;
  if (n >= 1000) return `${(n / 1000).toFixed(2)} s`;
  return `${n.toFixed(0)} ms`;
}

function row(name: string, values: number[], width = 54): string {
  return `  ${name.padEnd(width)}${secs(percentile(values, 50)).padStart(
    9,
  )}${secs(percentile(values, 99)).padStart(9)}${secs(
    Math.min(...values),
  ).padStart(9)}${secs(Math.max(...values)).padStart(9)}  n=${values.length}`;
}

function header(title: string, width = 54): string {
  return `${title}\n  ${''.padEnd(width)}${'p50'.padStart(9)}${'p99'.padStart(
    9,
  )}${'min'.padStart(9)}${'max'.padStart(9)}`;
}

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

// ------------------------------------------------------------------ helpers

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function until<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  what: string,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * One GET through Traefik with the URL's host, on a new connection; the
 * time to the response head (its first byte) and the body.
 */
function firstByte(
  ingressPort: number,
  url: string,
  timeoutMs = 120_000,
): Promise<{ status: number; ms: number; body: string }> {
  const { host, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(
      {
        host: '127.0.0.1',
        port: ingressPort,
        path: pathname,
        headers: { host },
        agent: false,
        timeout: timeoutMs,
      },
      res => {
        const ms = performance.now() - t0;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', chunk => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, ms, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${url} timed out`)));
  });
}

/** Proportional set size: shared pages split among the processes sharing them. */
function pssKiB(pid: number): number {
  try {
    const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** containerd's shims for this node's socket (one per pod sandbox). */
function shimPids(socket: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes('containerd-shim') && cmd.includes(socket)) {
        pids.push(Number(entry));
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The memory cgroup (v1) a process is in, relative to the hierarchy. */
function memoryCgroupOf(pid: number): string | undefined {
  try {
    return fs
      .readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .map(l => l.split(':'))
      .find(([, controllers]) =>
        controllers?.split(',').includes('memory'),
      )?.[2];
  } catch {
    return undefined;
  }
}

const CGROUP_MEMORY = '/sys/fs/cgroup/memory';

interface CgroupMemory {
  usage: number;
  workingSet: number;
}

function readCgroupMemory(dir: string): CgroupMemory | undefined {
  try {
    const usage = Number(
      fs.readFileSync(path.join(dir, 'memory.usage_in_bytes'), 'utf8'),
    );
    const stat = fs.readFileSync(path.join(dir, 'memory.stat'), 'utf8');
    const inactive = Number(
      /^total_inactive_file (\d+)$/m.exec(stat)?.[1] ?? 0,
    );
    return { usage, workingSet: Math.max(0, usage - inactive) };
  } catch {
    return undefined;
  }
}

function podCgroupDir(uid: string): string | undefined {
  for (const qos of ['', 'burstable', 'besteffort']) {
    const dir = path.join(CGROUP_MEMORY, 'kubepods', qos, `pod${uid}`);
    if (fs.existsSync(dir)) return dir;
  }
  return undefined;
}

interface MemorySample {
  /** VmRSS in KiB by process name. */
  processes: Record<string, number>;
  shims: { count: number; rssKiB: number; pssKiB: number; inKubepods: number };
  /** By group name: summed cgroup memory of its pods, and how many. */
  pods: Record<string, CgroupMemory & { count: number }>;
  /** Per app pod: its app container and its queue-proxy. */
  appContainers: { app: CgroupMemory[]; queue: CgroupMemory[] };
  /** The whole kubepods cgroup. */
  kubepods?: CgroupMemory;
  cgroupsReadable: boolean;
  operatorKiB: number;
}

async function sampleMemory(
  client: KubeClient,
  pids: Record<string, number>,
  socket: string,
  operatorPid: number,
): Promise<MemorySample> {
  const processes: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    if (name !== 'reaper') processes[name] = rssKiB(pid);
  }
  const shims = shimPids(socket);
  const shimRss = shims.reduce((sum, pid) => sum + rssKiB(pid), 0);
  const shimPss = shims.reduce((sum, pid) => sum + pssKiB(pid), 0);
  const inKubepods = shims.filter(pid =>
    memoryCgroupOf(pid)?.startsWith('/kubepods'),
  ).length;
  const pods: MemorySample['pods'] = {};
  const appContainers: MemorySample['appContainers'] = { app: [], queue: [] };
  const cgroupsReadable = fs.existsSync(path.join(CGROUP_MEMORY, 'kubepods'));
  const list = await client.list<any>(PODS);
  for (const pod of list.items) {
    if (pod.status?.phase !== 'Running') continue;
    const dir = podCgroupDir(pod.metadata.uid);
    const memory = dir && readCgroupMemory(dir);
    if (!memory) continue;
    const ns: string = pod.metadata.namespace;
    const group = ns.startsWith('tenant-')
      ? 'apps'
      : `${ns}/${
          pod.metadata.labels?.['app.kubernetes.io/component'] ??
          pod.metadata.labels?.app ??
          pod.metadata.labels?.['k8s-app'] ??
          pod.metadata.name
        }`;
    const entry = (pods[group] ??= { usage: 0, workingSet: 0, count: 0 });
    entry.usage += memory.usage;
    entry.workingSet += memory.workingSet;
    entry.count += 1;
    if (group === 'apps') {
      for (const c of pod.status?.containerStatuses ?? []) {
        const id = String(c.containerID ?? '').replace(/^\w+:\/\//, '');
        const m = id && readCgroupMemory(path.join(dir!, id));
        if (!m) continue;
        (c.name === 'queue-proxy'
          ? appContainers.queue
          : appContainers.app
        ).push(m);
      }
    }
  }
  return {
    processes,
    shims: {
      count: shims.length,
      rssKiB: shimRss,
      pssKiB: shimPss,
      inKubepods,
    },
    pods,
    appContainers,
    kubepods: readCgroupMemory(path.join(CGROUP_MEMORY, 'kubepods')),
    cgroupsReadable,
    operatorKiB: rssKiB(operatorPid),
  };
}

function printMemory(samples: Array<[string, MemorySample]>, apps: number) {
  const mib = (bytes: number) => {
    const m = bytes / 2 ** 20;
    return `${m < 10 ? m.toFixed(1) : m.toFixed(0)} MiB`;
  };
  const kib = (k: number) => mib(k * 1024);
  const line = (name: string, values: string[]) =>
    `  ${name.padEnd(48)}${values.map(v => v.padStart(24)).join('')}`;
  const cg = (m?: CgroupMemory) =>
    m ? `${mib(m.usage)} / ${mib(m.workingSet)}` : '—';
  const processNames = Object.keys(samples[0][1].processes);
  const nodeProcs = processNames.filter(n => !CONTROL_PLANE.includes(n));
  const groups = [...new Set(samples.flatMap(([, s]) => Object.keys(s.pods)))]
    .filter(g => g !== 'apps')
    .sort();
  // Shims by PSS: 25 copies of one binary share most of their pages.
  const hostBytes = (s: MemorySample) =>
    (nodeProcs.reduce((sum, n) => sum + s.processes[n], 0) + s.shims.pssKiB) *
    1024;
  const systemPods = (s: MemorySample): CgroupMemory =>
    groups.reduce(
      (sum, g) => ({
        usage: sum.usage + (s.pods[g]?.usage ?? 0),
        workingSet: sum.workingSet + (s.pods[g]?.workingSet ?? 0),
      }),
      { usage: 0, workingSet: 0 },
    );
  const plus = (bytes: number, ...ms: Array<CgroupMemory | undefined>) => ({
    usage: bytes + ms.reduce((a, m) => a + (m?.usage ?? 0), 0),
    workingSet: bytes + ms.reduce((a, m) => a + (m?.workingSet ?? 0), 0),
  });
  const withoutApps = (s: MemorySample) => plus(hostBytes(s), systemPods(s));
  const whole = (s: MemorySample) =>
    plus(hostBytes(s), systemPods(s), s.pods.apps);
  const avg = (ms: CgroupMemory[]) =>
    ms.length
      ? cg({
          usage: ms.reduce((a, m) => a + m.usage, 0) / ms.length,
          workingSet: ms.reduce((a, m) => a + m.workingSet, 0) / ms.length,
        })
      : '—';
  const each = (f: (s: MemorySample) => string) => samples.map(([, s]) => f(s));

  console.log('\nmemory of the data plane');
  console.log(
    line(
      '',
      samples.map(([name]) => name),
    ),
  );
  console.log('  node and ingress: host processes, VmRSS');
  for (const name of nodeProcs) {
    console.log(
      line(
        `  ${name}`,
        each(s => kib(s.processes[name])),
      ),
    );
  }
  console.log(
    line(
      '  containerd shims, VmRSS (how many)',
      each(s => `${kib(s.shims.rssKiB)} (${s.shims.count})`),
    ),
  );
  console.log(
    line(
      '  containerd shims, PSS (shared pages split)',
      each(s => kib(s.shims.pssKiB)),
    ),
  );
  console.log(
    line(
      '  = node and ingress (shims by PSS)',
      each(s => mib(hostBytes(s))),
    ),
  );
  console.log(
    '  Knative and CoreDNS pods: cgroup memory.usage_in_bytes / working set',
  );
  for (const group of groups) {
    console.log(
      line(
        `  ${group}`,
        each(s => cg(s.pods[group])),
      ),
    );
  }
  console.log(
    line(
      '  = Knative and CoreDNS',
      each(s => cg(systemPods(s))),
    ),
  );
  console.log(
    line(
      '= data plane without apps (usage / working set)',
      each(s => cg(withoutApps(s))),
    ),
  );
  console.log(
    line(
      'app pods: cgroup usage / working set (how many)',
      each(s =>
        s.pods.apps ? `${cg(s.pods.apps)} (${s.pods.apps.count})` : '— (0)',
      ),
    ),
  );
  console.log(
    line(
      '  per app pod, whole pod (with its sandbox)',
      each(s =>
        s.pods.apps
          ? cg({
              usage: s.pods.apps.usage / s.pods.apps.count,
              workingSet: s.pods.apps.workingSet / s.pods.apps.count,
            })
          : '—',
      ),
    ),
  );
  console.log(
    line(
      '  per app pod: app container',
      each(s => avg(s.appContainers.app)),
    ),
  );
  console.log(
    line(
      '  per app pod: queue-proxy',
      each(s => avg(s.appContainers.queue)),
    ),
  );
  console.log(
    line(
      '= whole data plane (usage / working set)',
      each(s => cg(whole(s))),
    ),
  );
  console.log(
    line(
      'kubepods cgroup (every pod, for comparison)',
      each(s => cg(s.kubepods)),
    ),
  );
  console.log('  for reference, not data plane: VmRSS');
  for (const name of CONTROL_PLANE.filter(n => processNames.includes(n))) {
    console.log(
      line(
        `  ${name}`,
        each(s => kib(s.processes[name])),
      ),
    );
  }
  console.log(
    line(
      '  operator (bundle)',
      each(s => kib(s.operatorKiB)),
    ),
  );

  const [, first] = samples[0];
  const [, atZero] = samples[1];
  const [, running] = samples[samples.length - 1];
  const perApp = (a: MemorySample, b: MemorySample) =>
    mib((whole(b).workingSet - whole(a).workingSet) / apps);
  console.log(
    `  per app, whole data plane working set: ${perApp(
      atZero,
      running,
    )} running vs. at zero; ${perApp(first, atZero)} at zero vs. no app`,
  );
  console.log(
    `  ratio whole data plane, ${apps} running / at rest: ${ratio(
      whole(running).workingSet,
      whole(first).workingSet,
    )}`,
  );
  if (samples.some(([, s]) => s.shims.inKubepods > 0)) {
    console.log(
      '  note: some shims live in pod cgroups, so they are counted twice',
    );
  }
  if (!first.cgroupsReadable) {
    console.log(
      `  note: ${CGROUP_MEMORY}/kubepods is not readable here: no pod figures`,
    );
  }
}

// --------------------------------------------------------------------- main

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const tenants = Math.ceil(args.apps / args.perTenant);
  console.log(
    `bench: Paved on the real data plane — ${args.apps} apps in ${tenants} tenants (plan starter, ${RESOURCES.cpu}/${RESOURCES.memory}), ${args.cold} cold starts`,
  );
  console.log(
    `machine: ${machineLoad()} at start, ${new Date().toISOString()}`,
  );
  const clusterStarted = Date.now();
  const cluster = await startTestCluster({
    timeoutMs: 180_000,
    dataPlane: {
      // Idle apps go to zero within seconds: cold starts can be sampled
      // without waiting Knative's default 90 s.
      autoscaler: {
        'stable-window': '6s',
        'scale-to-zero-grace-period': '6s',
        'scale-to-zero-pod-retention-period': '0s',
      },
    },
    log: line => {
      if (/waiting \d+ s for the real node/.test(line)) console.log(line);
    },
  });
  console.log(
    `data plane up in ${secs(
      Date.now() - clusterStarted,
    )} (including any wait for the node lock)`,
  );
  const dataPlane = cluster.dataPlane!;
  const client = await KubeClient.fromKubeConfig(cluster.kubeConfig, {
    maxSockets: 64,
  });
  let operator: ChildProcess | undefined;
  const informers: Informer[] = [];
  try {
    const [port] = await freePorts(1);
    // The bundle `yarn bench:data-plane` builds, run as the image runs it.
    operator = spawnBundledOperator(
      path.join(__dirname, '..', 'dist', 'bundle', 'main.js'),
      { kubeconfigPath: cluster.kubeconfigPath, port },
    );
    await until(
      async () =>
        (
          await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined)
        )?.ok,
      60_000,
      'the operator to be ready',
      100,
    );
    const operatorPid = operator.pid!;
    const memory = () =>
      sampleMemory(
        client,
        cluster.pids,
        dataPlane.containerdSocket,
        operatorPid,
      );

    // First sight of each milestone, by `<namespace>/<name>`.
    const ksvcSeen = new Map<string, number>();
    const ksvcReady = new Map<string, { at: number; generation: number }>();
    const appReady = new Map<string, { at: number; generation: number }>();
    const key = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
    const ksvcInformer = new Informer(client, { type: KNATIVE_SERVICES });
    const onKsvc = (o: KubeObject) => {
      if (!ksvcSeen.has(key(o))) ksvcSeen.set(key(o), Date.now());
      const status = o.status as any;
      const ready = status?.conditions?.find((c: any) => c.type === 'Ready');
      const generation = o.metadata.generation ?? 0;
      if (
        ready?.status === 'True' &&
        status.observedGeneration === generation &&
        (ksvcReady.get(key(o))?.generation ?? -1) < generation
      ) {
        ksvcReady.set(key(o), { at: Date.now(), generation });
      }
    };
    ksvcInformer.addHandlers({ add: onKsvc, update: (_, n) => onKsvc(n) });
    const appInformer = new Informer(client, { type: APPS });
    const onApp = (o: KubeObject) => {
      const status = o.status as any;
      const generation = o.metadata.generation ?? 0;
      if (
        status?.phase === 'Ready' &&
        status.observedGeneration === generation &&
        (appReady.get(key(o))?.generation ?? -1) < generation
      ) {
        appReady.set(key(o), { at: Date.now(), generation });
      }
    };
    appInformer.addHandlers({ add: onApp, update: (_, n) => onApp(n) });
    // Each app pod's steps, first seen: created, bound to the node, every
    // container running, Ready; for the cold start's breakdown.
    const podSteps = new Map<string, PodSteps>();
    const podInformer = new Informer(client, {
      type: PODS,
      labelSelector: 'serving.knative.dev/service',
    });
    const onPod = (o: KubeObject) => {
      const pod = o as any;
      const k = key(o);
      const now = Date.now();
      let steps = podSteps.get(k);
      if (!steps) {
        steps = {
          namespace: o.metadata.namespace!,
          service: o.metadata.labels?.['serving.knative.dev/service'] ?? '',
          created: now,
        };
        podSteps.set(k, steps);
      }
      if (pod.spec?.nodeName) steps.scheduled ??= now;
      const containers: any[] = pod.status?.containerStatuses ?? [];
      if (containers.length > 0 && containers.every(c => c.state?.running))
        steps.running ??= now;
      if (
        pod.status?.conditions?.some(
          (c: any) => c.type === 'Ready' && c.status === 'True',
        )
      )
        steps.ready ??= now;
    };
    podInformer.addHandlers({ add: onPod, update: (_, n) => onPod(n) });
    informers.push(ksvcInformer, appInformer, podInformer);
    for (const i of informers) i.start();
    await Promise.all(informers.map(i => i.waitForSync()));

    const appPods = async (namespace?: string, service?: string) =>
      (
        await client.list<any>(PODS, {
          namespace,
          labelSelector: service
            ? `serving.knative.dev/service=${service}`
            : 'serving.knative.dev/service',
        })
      ).items;
    const noAppPods = (what: string) =>
      until(
        async () => (await appPods()).length === 0,
        300_000,
        `no app pods (${what})`,
        500,
      );

    // ------------------------------------------------------------ at rest
    await sleep(args.settleSeconds * 1000);
    const atRest = await memory();

    // ------------------------------------------------------------ tenants
    const tenantNames = Array.from({ length: tenants }, (_, i) => `bench-${i}`);
    for (const name of tenantNames) {
      await client.apply(
        TENANTS,
        {
          apiVersion: 'paved.dev/v1alpha1',
          kind: 'Tenant',
          metadata: { name, finalizers: [FINALIZER_TENANT] },
          spec: {
            displayName: name,
            owner: 'group:default/bench',
            plan: 'starter',
          },
        },
        { fieldManager: FIELD_MANAGER_BACKEND },
      );
    }
    await until(
      async () => {
        for (const name of tenantNames) {
          const t = await client.get(TENANTS, name);
          if ((t.status as any)?.phase !== 'Active') return false;
        }
        return true;
      },
      120_000,
      'tenants Active',
      100,
    );

    const appSpec = (name: string, minInstances: number) => ({
      image: EXAMPLE_APP_IMAGE,
      port: 8080,
      env: [{ name: 'GREETING', value: name }],
      resources: RESOURCES,
      scaling: { minInstances, maxInstances: 3 },
    });
    const applyApp = (tenant: string, name: string, minInstances: number) =>
      client.apply(
        APPS,
        {
          apiVersion: 'paved.dev/v1alpha1',
          kind: 'App',
          // With the operator's finalizer, as the backend applies it.
          metadata: {
            name,
            namespace: `tenant-${tenant}`,
            finalizers: [FINALIZER_APP],
          },
          spec: appSpec(name, minInstances),
        },
        { fieldManager: FIELD_MANAGER_BACKEND },
      );
    const apps: Array<[string, string]> = [];
    for (let i = 0; i < args.apps; i++) {
      apps.push([tenantNames[Math.floor(i / args.perTenant)], `app-${i}`]);
    }
    const urlOf = (tenant: string, name: string) =>
      `http://${name}.tenant-${tenant}.${dataPlane.domain}`;

    // --------------------------------------- create → Ready, one at a time
    const created = new Map<string, number>();
    for (const [tenant, name] of apps) {
      const k = `tenant-${tenant}/${name}`;
      created.set(k, Date.now());
      await applyApp(tenant, name, 0);
      await until(() => appReady.has(k), 300_000, `${k} Ready`);
    }
    const seq = (from: Map<string, number>, to: Map<string, any>) =>
      apps.map(([t, n]) => {
        const k = `tenant-${t}/${n}`;
        const end = to.get(k);
        return (typeof end === 'number' ? end : end.at) - from.get(k)!;
      });
    const createToReady = seq(created, appReady);
    const operatorShare = seq(created, ksvcSeen);
    const knativeShare = apps.map(([t, n]) => {
      const k = `tenant-${t}/${n}`;
      return ksvcReady.get(k)!.at - ksvcSeen.get(k)!;
    });
    const statusShare = apps.map(([t, n]) => {
      const k = `tenant-${t}/${n}`;
      return appReady.get(k)!.at - ksvcReady.get(k)!.at;
    });

    // --------------------------------------------- cold start from zero
    await noAppPods('before cold starts');
    const apps20AtZero = await memory();
    const cold: number[] = [];
    const coldSteps: ColdSteps[] = [];
    const warm: number[] = [];
    for (let i = 0; i < args.cold; i++) {
      const [tenant, name] = apps[i % apps.length];
      await until(
        async () => (await appPods(`tenant-${tenant}`, name)).length === 0,
        300_000,
        `${name} at zero pods`,
        200,
      );
      const url = urlOf(tenant, name);
      const sent = Date.now();
      const first = await firstByte(dataPlane.ingressPort, url);
      const answered = sent + first.ms;
      if (first.status !== 200 || !first.body.startsWith(`Hello, ${name}!`)) {
        throw new Error(
          `cold request to ${url}: ${first.status} ${first.body.slice(0, 200)}`,
        );
      }
      cold.push(first.ms);
      // The watch may see the pod's last steps a moment after the answer
      // (the activator probes the pod itself, before the kubelet's Ready).
      const podOf = () =>
        [...podSteps.values()].find(
          p =>
            p.namespace === `tenant-${tenant}` &&
            p.service === name &&
            p.created >= sent,
        );
      for (let w = 0; w < 30 && !podOf()?.ready; w++) await sleep(100);
      const pod = podOf();
      if (pod?.scheduled && pod.running && pod.ready) {
        coldSteps.push({
          podCreated: pod.created - sent,
          scheduled: pod.scheduled - pod.created,
          running: pod.running - pod.scheduled,
          ready: pod.ready - pod.running,
          answered: answered - pod.ready,
        });
      }
      for (let w = 0; w < 3; w++) {
        const again = await firstByte(dataPlane.ingressPort, url);
        if (again.status === 200) warm.push(again.ms);
      }
    }

    // ---------------------------------------------- floor: plain Knative
    const directCreateToReady: number[] = [];
    if (args.direct) {
      await noAppPods('before the direct Knative Services');
      await client.apply(
        NAMESPACES,
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: DIRECT_NAMESPACE },
        },
        { fieldManager: 'paved-bench' },
      );
      for (let i = 0; i < args.apps; i++) {
        const name = `direct-${i}`;
        const template = desiredRevisionTemplate(
          DIRECT_NAMESPACE,
          name,
          appSpecSchema.parse(appSpec(name, 0)),
        ) as any;
        // Not Paved's: no labels the operator would look at.
        delete template.metadata.labels;
        const t0 = Date.now();
        await client.apply(
          KNATIVE_SERVICES,
          {
            apiVersion: 'serving.knative.dev/v1',
            kind: 'Service',
            metadata: { name, namespace: DIRECT_NAMESPACE },
            spec: { template },
          },
          { fieldManager: 'paved-bench' },
        );
        await until(
          () => ksvcReady.has(`${DIRECT_NAMESPACE}/${name}`),
          300_000,
          `${name} Ready`,
        );
        directCreateToReady.push(
          ksvcReady.get(`${DIRECT_NAMESPACE}/${name}`)!.at - t0,
        );
      }
      await client.delete(NAMESPACES, DIRECT_NAMESPACE);
    }

    // ------------------------------------------------- all at once (burst)
    const burstCreateToReady: number[] = [];
    let burstWallMs = NaN;
    if (args.burst) {
      await noAppPods('before the burst');
      const burst: Array<[string, string]> = apps.map(([t], i) => [
        t,
        `burst-${i}`,
      ]);
      const t0 = Date.now();
      const startedAt = new Map<string, number>();
      await Promise.all(
        burst.map(async ([tenant, name]) => {
          startedAt.set(`tenant-${tenant}/${name}`, Date.now());
          await applyApp(tenant, name, 0);
        }),
      );
      await until(
        () => burst.every(([t, n]) => appReady.has(`tenant-${t}/${n}`)),
        600_000,
        'the burst Ready',
      );
      burstWallMs = Date.now() - t0;
      for (const [t, n] of burst) {
        const k = `tenant-${t}/${n}`;
        burstCreateToReady.push(appReady.get(k)!.at - startedAt.get(k)!);
      }
      await Promise.all(
        burst.map(([t, n]) => client.delete(APPS, n, `tenant-${t}`)),
      );
      await until(
        async () => {
          for (const [t, n] of burst) {
            if (await client.tryGet(APPS, n, `tenant-${t}`)) return false;
          }
          return true;
        },
        300_000,
        'the burst deleted',
        500,
      );
    }

    // ------------------------------------------- memory with N apps running
    await noAppPods('before minInstances 1');
    for (const [tenant, name] of apps) await applyApp(tenant, name, 1);
    await until(
      async () => {
        for (const [tenant, name] of apps) {
          const app = await client.get(APPS, name, `tenant-${tenant}`);
          const status = app.status as any;
          if (
            status?.phase !== 'Ready' ||
            status.observedGeneration !== app.metadata.generation ||
            (status.instances?.ready ?? 0) < 1
          )
            return false;
        }
        const pods = await appPods();
        return (
          pods.length === apps.length &&
          pods.every(
            p =>
              !p.metadata.deletionTimestamp &&
              p.status?.containerStatuses?.every((c: any) => c.ready),
          )
        );
      },
      600_000,
      `${apps.length} apps running one instance each`,
      500,
    );
    await sleep(args.settleSeconds * 1000);
    const appsRunning = await memory();

    // ------------------------------------------------------------ report
    const order = (values: number[]) =>
      `    in order (s): ${values.map(v => (v / 1000).toFixed(2)).join(' ')}`;
    const note = (name: string, value: string) =>
      `  ${name.padEnd(54)}${value.padStart(9)}`;
    console.log(`\nmachine: ${machineLoad()} at end`);
    console.log(
      header(
        `\ncreate → Ready, ${args.apps} apps one at a time (minInstances 0)`,
      ),
    );
    console.log(row('App created → App Ready', createToReady));
    console.log(order(createToReady));
    console.log(
      row('  App created → Knative Service applied (operator)', operatorShare),
    );
    console.log(
      row('  Knative Service applied → its Ready (Knative)', knativeShare),
    );
    console.log(
      row('  Knative Ready → App Ready (operator status)', statusShare),
    );
    if (args.direct) {
      console.log(
        row(
          'floor: Knative Service applied directly → Ready',
          directCreateToReady,
        ),
      );
      console.log(order(directCreateToReady));
      console.log(
        note(
          'ratio Paved / plain Knative (p50)',
          ratio(
            percentile(createToReady, 50),
            percentile(directCreateToReady, 50),
          ),
        ),
      );
    }
    if (args.burst) {
      console.log(
        header(`\ncreate → Ready, ${args.apps} apps created at once`),
      );
      console.log(row('App created → App Ready', burstCreateToReady));
      console.log(note(`all ${args.apps} Ready after`, secs(burstWallMs)));
      console.log(
        note(
          'ratio at once / one at a time (p50)',
          ratio(
            percentile(burstCreateToReady, 50),
            percentile(createToReady, 50),
          ),
        ),
      );
    }
    console.log(
      header(
        `\ncold start from zero pods, request → first byte through Traefik`,
      ),
    );
    console.log(row('cold (the activator holds it while a pod starts)', cold));
    console.log(order(cold));
    if (coldSteps.length > 0) {
      // Each step as the watch saw it (a few ms behind the API server).
      const step = (label: string, pick: (s: ColdSteps) => number) =>
        console.log(row(`  ${label}`, coldSteps.map(pick)));
      console.log(
        note(
          'of which, per step',
          `${coldSteps.length} of ${cold.length} cold starts seen whole`,
        ),
      );
      step('request → pod created (activator, autoscaler)', s => s.podCreated);
      step('pod created → bound to the node', s => s.scheduled);
      step('bound → every container running', s => s.running);
      step('running → Ready (readiness)', s => s.ready);
      step(
        'Ready → first byte (< 0: the activator probed it first)',
        s => s.answered,
      );
    }
    console.log(row('floor: warm request, same app, right after', warm));
    console.log(
      note(
        'ratio cold / warm (p50)',
        ratio(percentile(cold, 50), percentile(warm, 50)),
      ),
    );
    printMemory(
      [
        ['at rest', atRest],
        [`${args.apps} apps at zero`, apps20AtZero],
        [`${args.apps} apps running`, appsRunning],
      ],
      args.apps,
    );
  } finally {
    for (const i of informers) await i.stop();
    if (operator && operator.exitCode === null) {
      operator.kill('SIGTERM');
      await new Promise(r => operator!.once('exit', r));
    }
    client.close();
    await cluster.stop();
  }
}

runBenchmark(main);
