/**
 * The fault harness. One stack for all runs: a test cluster (etcd,
 * kube-apiserver, kube-controller-manager; supervised, so a killed process
 * comes back: etcd on its data dir), two operator replicas with leader
 * election, two backend replicas on one PostgreSQL database. Each run:
 *
 * 1. the load (workload.ts) with faults at seeded points of its progress,
 *    of seeded kinds, then until settled (checks.ts);
 * 2. each kind of fault once more, measured: the fault, at once a burst of
 *    updates, and the time from the fault until every acknowledged write is
 *    in the cluster and nothing is orphaned or stuck;
 * 3. every tenant of the run deleted (under no fault) and checked gone.
 *
 * Throughout, a Tenant whose namespace was still there when it went is
 * counted (the operator deletes the namespace first).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import {
  Informer,
  KubeClient,
  NAMESPACES,
  TENANTS,
  consoleLogger,
} from '@paved/kube';
import {
  EXAMPLE_APP_IMAGE,
  TestCluster,
  startTestCluster,
} from '@paved/test-cluster';
// The backend's test helpers (users, a backend with Paved's policy): a test
// harness, not a plugin, uses them.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import { ALICE, TEAM_A } from '@paved/plugin-paved-backend/testUtils';
import { mockCredentials } from '@backstage/backend-test-utils';
import { Findings, NAMESPACE_PREFIX, waitUntilSettled } from './checks';
import { BackendReplicas, LEASE_NAMESPACE, OperatorReplicas } from './parts';
import { Random } from './random';
import {
  Api,
  deleteAll,
  Ledger,
  runWorkload,
  updateBurst,
  versionedImage,
} from './workload';

export const FAULT_KINDS = [
  'operator-leader',
  'backend-replica',
  'kube-apiserver',
  'etcd',
  // With the real node (`dataPlane`) only.
  'kubelet',
  'containerd',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The kinds of fault a harness can inject: the node's only with a node. */
export const faultKinds = (dataPlane: boolean): FaultKind[] =>
  FAULT_KINDS.filter(k => dataPlane || (k !== 'kubelet' && k !== 'containerd'));

export interface HarnessOptions {
  tenants: number;
  apps: number;
  /** Faults during the load of each run. */
  faultsPerRun: number;
  concurrency: number;
  /** Updates sent right after each measured fault. */
  burst: number;
  /** How long a run may take to settle before it counts as not converged. */
  settleTimeoutMs: number;
  /** A PostgreSQL server; the harness creates (and drops) a database there. */
  postgresUrl: string;
  /**
   * Run on the real node with Knative Serving (the test cluster's data
   * plane): apps run the example image and must be Ready, and the kubelet
   * and containerd are killed too. Its size must fit one node.
   */
  dataPlane?: boolean;
  log: (line: string) => void;
  /** Every 2 s while a run settles, what is still not as acknowledged. */
  trace?: boolean;
}

export interface RunResult {
  seed: number;
  faults: Array<{ kind: FaultKind; at: string; detail: string }>;
  writes: Api['stats'];
  /** Load done → settled, in ms; undefined if it did not settle. */
  settleAfterLoadMs?: number;
  /** Per measured fault: fault → settled, in ms (undefined: did not settle). */
  converge: Partial<Record<FaultKind, number | undefined>>;
  /** After the final deletion: deleted → all gone, in ms. */
  deleteAllMs?: number;
  findings: Findings;
  /** Tenants gone while their namespace was still there. */
  tenantsBeforeNamespace: string[];
}

export class FaultHarness {
  private constructor(
    private readonly options: HarnessOptions,
    private readonly cluster: TestCluster,
    private readonly client: KubeClient,
    private readonly operators: OperatorReplicas,
    private readonly backends: BackendReplicas,
    private readonly drop: () => Promise<void>,
    private readonly tenantWatch: Informer,
    private readonly orderViolations: string[],
    readonly logDir: string,
  ) {}

  static async start(options: HarnessOptions): Promise<FaultHarness> {
    const { log } = options;
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paved-faults-'));
    const cluster = await startTestCluster({
      // A killed process is back after 1 s, every time.
      supervise: { maxBackoffMs: 1000 },
      dataPlane: options.dataPlane,
      capsule: false,
      cilium: false,
      timeoutMs: 180_000,
      log: line => {
        if (/exited|starting it again|ready at/.test(line))
          log(`[cluster] ${line}`);
      },
    });
    const client = await KubeClient.fromKubeConfig(cluster.kubeConfig);
    await client.create(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: LEASE_NAMESPACE },
    });

    const database = `paved_faults_${Date.now()}`;
    const admin = knexFactory({
      client: 'pg',
      connection: options.postgresUrl,
    });
    await admin.raw(`CREATE DATABASE ${database}`);
    const url = new URL(options.postgresUrl);
    url.pathname = `/${database}`;
    const drop = async () => {
      await admin.raw(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.destroy();
    };

    const operators = new OperatorReplicas({
      kubeconfigPath: cluster.kubeconfigPath,
      logDir,
      concurrency: options.concurrency,
      dataPlane: options.dataPlane ?? false,
    });
    const backends = new BackendReplicas({
      kubeconfigPath: cluster.kubeconfigPath,
      databaseUrl: url.toString(),
      logDir,
    });
    const started = Date.now();
    // One backend first: two replicas migrating one empty database at once
    // is a race of Backstage's, not of Paved's (knex's migration lock).
    await Promise.all([operators.add(), operators.add(), backends.add()]);
    await backends.add();
    log(
      `stack up in ${
        Date.now() - started
      } ms: 2 operator replicas, 2 backend replicas on PostgreSQL (${database}); logs in ${logDir} and ${path.dirname(
        cluster.logFiles.etcd,
      )}`,
    );

    // A Tenant must go after its namespace: when one goes, is it still there?
    const orderViolations: string[] = [];
    const tenantWatch = new Informer(client, {
      type: TENANTS,
      logger: consoleLogger('error'),
    });
    tenantWatch.addHandlers({
      delete: tenant => {
        const ns = `${NAMESPACE_PREFIX}${tenant.metadata.name}`;
        client.tryGet(NAMESPACES, ns).then(
          found => {
            if (found)
              orderViolations.push(
                `${tenant.metadata.name} (namespace ${ns} still there)`,
              );
          },
          () => {},
        );
      },
    });
    tenantWatch.start();
    return new FaultHarness(
      options,
      cluster,
      client,
      operators,
      backends,
      drop,
      tenantWatch,
      orderViolations,
      logDir,
    );
  }

  /** On the real node, the example image (each change is an env change). */
  private readonly imageOf = (app: string, version: number) =>
    this.options.dataPlane ? EXAMPLE_APP_IMAGE : versionedImage(app, version);

  /** The kinds of fault this harness injects. */
  get kinds(): FaultKind[] {
    return faultKinds(this.options.dataPlane ?? false);
  }

  private api(): Api {
    return new Api(
      () => this.backends.urls(),
      mockCredentials.user.header(ALICE),
    );
  }

  private settleOptions() {
    return {
      timeoutMs: this.options.settleTimeoutMs,
      ready: this.options.dataPlane ?? false,
      trace: this.tracer(),
    };
  }

  private tracer() {
    if (!this.options.trace) return undefined;
    return (elapsedMs: number, findings: Findings) =>
      this.options.log(
        `    ${(elapsedMs / 1000).toFixed(1)} s: ${summary(findings)}`,
      );
  }

  private injecting: Promise<unknown> = Promise.resolve();

  /**
   * Kills one part; resolves once the kill is done (not once it is back).
   * One fault at a time: two at once would pick the same leader or replica.
   */
  inject(kind: FaultKind, random: Random): Promise<string> {
    const next = this.injecting.then(() => this.injectNow(kind, random));
    this.injecting = next.catch(() => undefined);
    return next;
  }

  private async injectNow(kind: FaultKind, random: Random): Promise<string> {
    switch (kind) {
      case 'operator-leader':
        return (
          (await this.operators.killLeader(this.client)) ??
          'no leader held the lease'
        );
      case 'backend-replica':
        return this.backends.killOne(random.below(2));
      case 'kube-apiserver':
      case 'etcd':
      case 'kubelet':
      case 'containerd': {
        const pid = this.cluster.pids[kind];
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // Still down from the last kill (its supervisor's pause).
          return `pid ${pid} was not running`;
        }
        return `pid ${pid}; the cluster's supervisor starts it again`;
      }
      default:
        throw new Error(`unknown fault ${kind}`);
    }
  }

  async run(seed: number): Promise<RunResult> {
    const { options } = this;
    const { log } = options;
    const random = new Random(seed);
    const api = this.api();
    const ledger = new Ledger();
    const faults: RunResult['faults'] = [];
    this.orderViolations.length = 0;

    // Faults at seeded points of the load's progress (its write count).
    const expectedWrites = options.tenants * (1 + options.apps + 2);
    const schedule = Array.from({ length: options.faultsPerRun }, () => ({
      atWrite: 1 + random.below(expectedWrites),
      kind: random.pick(this.kinds),
    })).sort((a, b) => a.atWrite - b.atWrite);
    log(
      `run ${seed}: ${options.tenants} tenants × ${
        options.apps
      } apps; faults at writes ${schedule
        .map(s => `${s.atWrite} (${s.kind})`)
        .join(', ')}`,
    );
    const pending: Promise<unknown>[] = [];
    let progressLogged = 0;
    const loadStarted = Date.now();
    await runWorkload(api, ledger, {
      tenants: options.tenants,
      apps: options.apps,
      concurrency: options.concurrency,
      prefix: `r${seed}`,
      owner: TEAM_A,
      plan: 'starter',
      image: this.imageOf,
      random: new Random(seed ^ 0x5eed),
      progress: writes => {
        while (schedule.length && schedule[0].atWrite <= writes) {
          const { kind } = schedule.shift()!;
          const at = `write ${writes}`;
          pending.push(
            this.inject(kind, random).then(
              detail => faults.push({ kind, at, detail }),
              error =>
                faults.push({
                  kind,
                  at,
                  detail: `failed: ${(error as Error).message}`,
                }),
            ),
          );
        }
        if (writes - progressLogged >= 200) {
          progressLogged = writes;
          log(`  ${writes} writes answered (${api.stats.retried} retried)`);
        }
      },
    });
    await Promise.all(pending);
    const loadDone = Date.now();
    log(
      `  load done in ${loadDone - loadStarted} ms: ${
        api.stats.acknowledged
      } writes acknowledged, ${api.stats.retried} retried, ${
        api.stats.rejected.length
      } rejected; faults: ${faults
        .map(f => `${f.kind} at ${f.at}`)
        .join(', ')}`,
    );
    const afterLoad = await waitUntilSettled(
      this.client,
      api,
      ledger,
      this.settleOptions(),
    );
    let findings = afterLoad.findings;
    const settledAt = afterLoad.settledAt;
    const settleAfterLoadMs = settledAt ? settledAt - loadDone : undefined;
    log(
      `  settled after the load: ${
        settledAt ? `${settleAfterLoadMs} ms` : `NO (${summary(findings)})`
      }`,
    );

    const converge: RunResult['converge'] = {};
    if (settledAt) {
      const order = [...this.kinds].sort(() => random.next() - 0.5);
      for (const kind of order) {
        const faultAt = Date.now();
        const detail = await this.inject(kind, random);
        faults.push({ kind, at: 'measured', detail });
        await updateBurst(api, ledger, random, options.burst, this.imageOf);
        const after = await waitUntilSettled(
          this.client,
          api,
          ledger,
          this.settleOptions(),
        );
        findings = after.findings;
        converge[kind] = after.settledAt
          ? after.settledAt - faultAt
          : undefined;
        log(
          `  ${kind} killed (${detail}): settled ${
            after.settledAt
              ? `in ${converge[kind]} ms`
              : `NO (${summary(findings)})`
          }`,
        );
        if (!after.settledAt) break;
      }
    }

    // The end of the run: everything it made is deleted and must go.
    let deleteAllMs: number | undefined;
    const deleteStarted = Date.now();
    await deleteAll(api, ledger);
    const gone = await waitUntilSettled(
      this.client,
      api,
      ledger,
      this.settleOptions(),
    );
    if (gone.settledAt) deleteAllMs = gone.settledAt - deleteStarted;
    else findings = gone.findings;
    log(
      `  all deleted: ${
        gone.settledAt ? `${deleteAllMs} ms` : `NO (${summary(gone.findings)})`
      }`,
    );
    return {
      seed,
      faults,
      writes: api.stats,
      settleAfterLoadMs,
      converge,
      deleteAllMs,
      findings: gone.settledAt ? gone.findings : findings,
      tenantsBeforeNamespace: [...this.orderViolations],
    };
  }

  async stop(): Promise<void> {
    await this.tenantWatch.stop();
    await this.backends.stop();
    await this.operators.stop();
    this.client.close();
    await this.cluster.stop();
    await this.drop();
  }
}

/** Everything a run found wrong, one line each; empty when it was clean. */
export function defectsOf(r: RunResult): string[] {
  return [
    ...r.writes.rejected.map(w => `rejected write: ${w}`),
    ...r.findings.missing.map(m => `not converged: ${m}`),
    ...r.findings.orphans.map(o => `orphan: ${o}`),
    ...r.findings.duplicates.map(d => `duplicate: ${d}`),
    ...r.findings.deleting.map(d => `stuck deleting: ${d}`),
    ...r.tenantsBeforeNamespace.map(
      t => `Tenant gone before its namespace: ${t}`,
    ),
    ...(r.settleAfterLoadMs === undefined
      ? ['did not settle after the load']
      : []),
    ...FAULT_KINDS.filter(
      k => k in r.converge && r.converge[k] === undefined,
    ).map(k => `did not settle after ${k}`),
  ];
}

export function summary(f: Findings): string {
  const parts = [
    f.missing.length &&
      `${f.missing.length} not as acknowledged (first: ${f.missing[0]})`,
    f.orphans.length && `${f.orphans.length} orphans (first: ${f.orphans[0]})`,
    f.duplicates.length &&
      `${f.duplicates.length} duplicates (first: ${f.duplicates[0]})`,
    f.deleting.length &&
      `${f.deleting.length} stuck deleting (first: ${f.deleting[0]})`,
  ].filter(Boolean);
  return parts.join('; ') || 'settled';
}
