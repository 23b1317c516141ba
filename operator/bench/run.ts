/**
 * Benchmark: N tenants with M apps each, provisioned by the operator on the
 * test control plane, then the same child objects written directly by a
 * plain client loop at the same concurrency. Prints latencies, throughput,
 * operator memory and the ratio.
 *
 * It measures the operator's own share: Tenant created → Active (all its
 * children applied), App created → its Knative Service applied. No Knative
 * controller runs here (500 apps do not fit on one real node); Knative's
 * share of create → Ready is measured on the real data plane by
 * `yarn workspace @paved/operator bench:data-plane`.
 *
 *   yarn workspace @paved/operator bench [--tenants 100] [--apps 5]
 *     [--concurrency 8] [--no-direct]
 *
 * The operator runs as a child process (the bundle of src/main.ts, as in the
 * image), so its RSS is its own.
 */
import { spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import {
  percentile,
  rssKiB,
  runBenchmark,
  wholeNumberFlag,
  startTestCluster,
  freePorts,
} from '@paved/test-cluster';
import path from 'node:path';
import { FIELD_MANAGER_BACKEND } from '@paved/plugin-paved-common';
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
  RESOURCE_QUOTAS,
  TENANTS,
} from '@paved/kube';
import { DEFAULT_DESIRED_STATE_CONFIG } from '../src/desired/config';
import { desiredNamespace } from '../src/desired/namespace';
import { desiredCapsuleTenant } from '../src/desired/rbac';
import { desiredCiliumNetworkPolicy } from '../src/desired/networkPolicy';
import { desiredLimitRange, desiredResourceQuota } from '../src/desired/quota';
import { desiredKnativeService } from '../src/desired/knativeService';
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
}

function parseArgs(argv: string[]): Args {
  const args: Args = { tenants: 100, apps: 5, concurrency: 8, direct: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const number = () => wholeNumberFlag(flag, argv[++i]);
    if (flag === '--tenants') args.tenants = number();
    else if (flag === '--apps') args.apps = number();
    else if (flag === '--concurrency') args.concurrency = number();
    else if (flag === '--no-direct') args.direct = false;
    else
      throw new Error(
        `unknown flag ${flag}; use --tenants N --apps M --concurrency C --no-direct`,
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

/** Waits until `done()` or throws after `timeoutMs`. */
async function until(done: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 20));
  }
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
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

const ms = (n: number) => `${n.toFixed(0)} ms`;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const total = args.tenants * args.apps;
  console.log(
    `bench: ${args.tenants} tenants x ${args.apps} apps = ${total} apps, concurrency ${args.concurrency}`,
  );
  const cluster = await startTestCluster({ timeoutMs: 120_000 });
  const client = await KubeClient.fromKubeConfig(cluster.kubeConfig, {
    maxSockets: 128,
  });
  let operator: ChildProcess | undefined;
  try {
    // ------------------------------------------------------------- operator
    const [port] = await freePorts(1);
    operator = spawn(
      process.execPath,
      // The bundle `yarn bench` builds, run as the image runs it.
      [
        ...(process.env.OPERATOR_NODE_FLAGS ?? '--max-semi-space-size=4')
          .split(' ')
          .filter(Boolean),
        path.join(__dirname, '..', 'dist', 'bundle', 'main.js'),
      ],
      {
        env: {
          ...process.env,
          KUBECONFIG: cluster.kubeconfigPath,
          PAVED_LEADER_ELECTION: 'false',
          PAVED_METRICS_PORT: String(port),
          PAVED_METRICS_HOST: '127.0.0.1',
          PAVED_CONCURRENCY: String(args.concurrency),
          PAVED_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
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

    const created = new Map<string, number>();
    const readyAt = new Map<string, number>();
    const tenantInformer = new Informer(client, { type: TENANTS });
    const appInformer = new Informer(client, {
      type: KNATIVE_SERVICES,
      labelSelector: 'paved.dev/app',
    });
    const seen = (phase: string) => (o: KubeObject) => {
      const key = `${o.kind}:${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      if ((o.status as any)?.phase === phase && !readyAt.has(key))
        readyAt.set(key, Date.now());
    };
    tenantInformer.addHandlers({
      add: seen('Active'),
      update: (_o, n) => seen('Active')(n),
    });
    // An App is done when the operator has applied its Knative Service.
    appInformer.addHandlers({
      add: o => {
        const key = `App:${o.metadata.namespace}/${o.metadata.name}`;
        if (!readyAt.has(key)) readyAt.set(key, Date.now());
      },
    });
    tenantInformer.start();
    appInformer.start();
    await Promise.all([
      tenantInformer.waitForSync(),
      appInformer.waitForSync(),
    ]);

    const reconcilesBefore = await metric(port, 'paved_reconcile_total');
    const tenantNames = Array.from(
      { length: args.tenants },
      (_, i) => `bench-${i}`,
    );
    const start = Date.now();
    await pool(tenantNames, args.concurrency, async name => {
      created.set(`Tenant:/${name}`, Date.now());
      await client.apply(
        TENANTS,
        {
          apiVersion: 'paved.dev/v1alpha1',
          kind: 'Tenant',
          metadata: { name },
          spec: {
            displayName: name,
            owner: 'group:default/bench',
            plan: 'pro',
          },
        },
        { fieldManager: FIELD_MANAGER_BACKEND },
      );
    });
    await until(
      () => tenantNames.every(n => readyAt.has(`Tenant:/${n}`)),
      600_000,
      'tenants Active',
    );
    const tenantsDone = Date.now();
    const appKeys: Array<[string, string]> = [];
    for (const t of tenantNames)
      for (let a = 0; a < args.apps; a++) appKeys.push([t, `app-${a}`]);
    await pool(appKeys, args.concurrency, async ([tenant, app]) => {
      const ns = `tenant-${tenant}`;
      created.set(`App:${ns}/${app}`, Date.now());
      await client.apply(
        APPS,
        {
          apiVersion: 'paved.dev/v1alpha1',
          kind: 'App',
          metadata: { name: app, namespace: ns },
          spec: { image: `ghcr.io/acme/${app}:1.0.0`, port: 8080 },
        },
        { fieldManager: FIELD_MANAGER_BACKEND },
      );
    });
    await until(
      () => appKeys.every(([t, a]) => readyAt.has(`App:tenant-${t}/${a}`)),
      1_200_000,
      'Knative Services applied',
    );
    const end = Date.now();
    const reconciles =
      (await metric(port, 'paved_reconcile_total')) - reconcilesBefore;
    const metricsText = await (
      await fetch(`http://127.0.0.1:${port}/metrics`)
    ).text();
    const requests = [
      ...metricsText.matchAll(
        /^paved_api_requests_total\{method="(\w+)",resource="([^"]*)"\} (\d+)/gm,
      ),
    ]
      .map(m => `${m[1]} ${m[2]}: ${m[3]}`)
      .join(', ');
    const latencies = (kind: string) =>
      [...created.entries()]
        .filter(([k]) => k.startsWith(`${kind}:`))
        .map(([k, t]) => readyAt.get(k)! - t);
    const tenantLat = latencies('Tenant');
    const appLat = latencies('App');
    const rss = rssMiB(operator.pid!);
    const heap =
      (await metric(port, 'nodejs_heap_size_used_bytes')) / 1024 / 1024;
    const cpu = cpuSeconds(operator.pid!);
    const operatorTotal = end - start;
    console.log('\noperator');
    console.log(
      `  time to all applied         ${ms(
        operatorTotal,
      )} (tenants Active after ${ms(tenantsDone - start)})`,
    );
    console.log(
      `  tenant create->Active       p50 ${ms(
        percentile(tenantLat, 50),
      )}  p99 ${ms(percentile(tenantLat, 99))}`,
    );
    console.log(
      `  app create->ksvc applied    p50 ${ms(
        percentile(appLat, 50),
      )}  p99 ${ms(percentile(appLat, 99))}`,
    );
    console.log(
      `  reconciles                  ${reconciles} (${(
        reconciles /
        (operatorTotal / 1000)
      ).toFixed(0)}/s)`,
    );
    console.log(
      `  operator RSS                ${rss.toFixed(
        0,
      )} MiB with ${total} apps (JS heap used ${heap.toFixed(0)} MiB)`,
    );
    console.log(`  operator CPU                ${cpu.toFixed(1)} s`);
    console.log(`  operator API requests       ${requests}`);
    await tenantInformer.stop();
    await appInformer.stop();
    operator.kill('SIGTERM');
    await new Promise(r => operator!.once('exit', r));
    operator = undefined;

    if (!args.direct) return;
    // --------------------------------------------------------------- direct
    const config = DEFAULT_DESIRED_STATE_CONFIG;
    const ksvcApplied = new Map<string, number>();
    const directTenantLat: number[] = [];
    const directCreated = new Map<string, number>();
    const dStart = Date.now();
    await pool(
      Array.from({ length: args.tenants }, (_, i) => `direct-${i}`),
      args.concurrency,
      async name => {
        const t0 = Date.now();
        const tenant: TenantResource = {
          apiVersion: 'paved.dev/v1alpha1',
          kind: 'Tenant',
          metadata: { name },
          spec: tenantSpecSchema.parse({
            displayName: name,
            owner: 'group:default/bench',
            plan: 'pro',
          }),
        };
        await client.apply(
          NAMESPACES,
          desiredNamespace(tenant, config, { capsule: true }),
        );
        await client.apply(
          CAPSULE_TENANTS,
          desiredCapsuleTenant(tenant, config),
        );
        await client.apply(
          CILIUM_NETWORK_POLICIES,
          desiredCiliumNetworkPolicy(tenant, config),
        );
        await client.apply(
          RESOURCE_QUOTAS,
          desiredResourceQuota(tenant, config),
        );
        await client.apply(LIMIT_RANGES, desiredLimitRange(tenant, config));
        directTenantLat.push(Date.now() - t0);
      },
    );
    const directApps: Array<[string, string]> = [];
    for (let i = 0; i < args.tenants; i++)
      for (let a = 0; a < args.apps; a++)
        directApps.push([`direct-${i}`, `app-${a}`]);
    await pool(directApps, args.concurrency, async ([tenant, name]) => {
      const ns = `tenant-${tenant}`;
      const app: AppResource = {
        apiVersion: 'paved.dev/v1alpha1',
        kind: 'App',
        metadata: { name, namespace: ns },
        spec: appSpecSchema.parse({
          image: `ghcr.io/acme/${name}:1.0.0`,
          port: 8080,
        }),
      };
      const ksvc = desiredKnativeService(tenant, app, app.spec);
      ksvc.metadata.labels = { ...ksvc.metadata.labels, bench: 'direct' };
      directCreated.set(`${ns}/${name}`, Date.now());
      await client.apply(KNATIVE_SERVICES, ksvc);
      ksvcApplied.set(`${ns}/${name}`, Date.now());
    });
    const dEnd = Date.now();
    const directAppLat = [...directCreated.entries()].map(
      ([k, t]) => ksvcApplied.get(k)! - t,
    );
    const directTotal = dEnd - dStart;
    console.log(
      '\ndirect (plain client loop, same children, same concurrency)',
    );
    console.log(`  time to all applied         ${ms(directTotal)}`);
    console.log(
      `  tenant children applied     p50 ${ms(
        percentile(directTenantLat, 50),
      )}  p99 ${ms(percentile(directTenantLat, 99))}`,
    );
    console.log(
      `  service applied             p50 ${ms(
        percentile(directAppLat, 50),
      )}  p99 ${ms(percentile(directAppLat, 99))}`,
    );
    console.log(
      `\nratio operator/direct         ${(operatorTotal / directTotal).toFixed(
        2,
      )}`,
    );
  } finally {
    if (operator) {
      operator.kill('SIGTERM');
      await new Promise(r => operator!.once('exit', r));
    }
    client.close();
    await cluster.stop();
  }
}

runBenchmark(main);
