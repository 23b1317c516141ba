/* eslint-disable no-console */
/**
 * The fault harness as a benchmark-style command (not part of the test
 * suite): `yarn workspace @paved/fault-harness faults [flags]`, which
 * starts PostgreSQL itself (scripts/faults.sh). Prints each run as it goes,
 * then the figures over all runs; exits 1 when a run lost a write, left an
 * orphan, a duplicate or a stuck object, removed a Tenant before its
 * namespace, or did not converge.
 *
 *   --runs 20 --seed 1 --tenants 100 --apps 5 --faults 4 --concurrency 8
 *   --burst 20 --settle-timeout 300 [--trace] [--data-plane]
 *
 * `--data-plane` runs on the real node with Knative (apps must be Ready;
 * the kubelet and containerd are killed too): keep it small (5 × 3).
 *
 * Run k uses seed (seed + k); `--runs 1 --seed S` replays one run.
 */
import {
  machineLoad,
  percentile,
  runBenchmark,
  wholeNumberFlag,
} from '@paved/test-cluster';
import {
  defectsOf,
  FAULT_KINDS,
  FaultHarness,
  HarnessOptions,
  RunResult,
  summary,
} from './harness';

function parseArgs(argv: string[]) {
  const args = {
    runs: 20,
    seed: 1,
    tenants: 100,
    apps: 5,
    faults: 4,
    concurrency: 8,
    burst: 20,
    settleTimeout: 300,
    trace: 0,
    dataPlane: 0,
  };
  const flags: Record<string, keyof typeof args> = {
    '--runs': 'runs',
    '--seed': 'seed',
    '--tenants': 'tenants',
    '--apps': 'apps',
    '--faults': 'faults',
    '--concurrency': 'concurrency',
    '--burst': 'burst',
    '--settle-timeout': 'settleTimeout',
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--trace' || argv[i] === '--data-plane') {
      args[argv[i] === '--trace' ? 'trace' : 'dataPlane'] = 1;
      continue;
    }
    const key = flags[argv[i]];
    if (!key) {
      throw new Error(
        `unknown flag ${argv[i]}; use ${Object.keys(flags).join(' N, ')} N`,
      );
    }
    args[key] = wholeNumberFlag(argv[i], argv[++i]);
  }
  return args;
}

const seconds = (ms: number | undefined) =>
  ms === undefined || Number.isNaN(ms) ? '—' : `${(ms / 1000).toFixed(1)} s`;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const postgresUrl = process.env.PAVED_POSTGRES_URL;
  if (!postgresUrl) {
    throw new Error(
      'PAVED_POSTGRES_URL is not set: run this through `yarn workspace @paved/fault-harness faults`, which starts PostgreSQL',
    );
  }
  const options: HarnessOptions = {
    tenants: args.tenants,
    apps: args.apps,
    faultsPerRun: args.faults,
    concurrency: args.concurrency,
    burst: args.burst,
    settleTimeoutMs: args.settleTimeout * 1000,
    postgresUrl,
    log: line => console.log(line),
    trace: args.trace === 1,
    dataPlane: args.dataPlane === 1,
  };
  console.log(
    `fault harness: ${args.runs} runs from seed ${args.seed}; ${machineLoad()}`,
  );
  // Ctrl-C or a kill: exit, which kills the replicas (parts.ts); the
  // cluster's reaper stops the cluster.
  const results: RunResult[] = [];
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      // The runs so far still count.
      printFigures(results);
      process.exit(130);
    });
  }
  const harness = await FaultHarness.start(options);
  let failed = false;
  try {
    for (let k = 0; k < args.runs; k++) {
      const result = await harness.run(args.seed + k);
      results.push(result);
      const defects = defectsOf(result);
      if (defects.length) {
        failed = true;
        console.log(
          `  run ${result.seed}: ${defects.length} defects:\n    ${defects
            .slice(0, 20)
            .join('\n    ')}`,
        );
      }
    }
  } finally {
    printFigures(results);
    console.log(`(${machineLoad()})`);
    await harness.stop();
  }
  if (failed)
    throw new Error(
      'some runs found defects (above); replay one with --runs 1 --seed S',
    );
}

function printFigures(results: RunResult[]) {
  if (!results.length) return;
  const sum = (f: (r: RunResult) => number) =>
    results.reduce((n, r) => n + f(r), 0);
  console.log(
    `\n== ${results.length} runs (seeds ${results[0].seed}–${
      results[results.length - 1].seed
    }) ==`,
  );
  console.log(
    'time to converge after each kind of fault (fault → every acknowledged write in the cluster, 0 orphans, 0 stuck):',
  );
  const kinds = FAULT_KINDS.filter(k => results.some(r => k in r.converge));
  for (const kind of kinds) {
    const samples = results
      .map(r => r.converge[kind])
      .filter((v): v is number => v !== undefined);
    const missed = results.filter(
      r => kind in r.converge && r.converge[kind] === undefined,
    ).length;
    console.log(
      `  ${kind.padEnd(16)} p50 ${seconds(
        percentile(samples, 50),
      )}  p99 ${seconds(percentile(samples, 99))}  (${samples.length} samples${
        missed ? `, ${missed} did not converge` : ''
      })`,
    );
  }
  const line = (label: string, values: Array<number | undefined>) => {
    const samples = values.filter((v): v is number => v !== undefined);
    console.log(
      `  ${label}: p50 ${seconds(percentile(samples, 50))}  p99 ${seconds(
        percentile(samples, 99),
      )}`,
    );
  };
  line(
    'after the load with faults',
    results.map(r => r.settleAfterLoadMs),
  );
  line(
    'deleting everything of a run',
    results.map(r => r.deleteAllMs),
  );
  console.log(
    `faults injected: ${sum(r => r.faults.length)} (${kinds
      .map(k => `${k} ${sum(r => r.faults.filter(f => f.kind === k).length)}`)
      .join(', ')})`,
  );
  console.log(
    `writes: ${sum(r => r.writes.acknowledged)} acknowledged (${sum(
      r => r.writes.retried,
    )} after a retry), ${sum(r => r.writes.rejected.length)} rejected`,
  );
  console.log(
    `objects as acknowledged at the last check: ${sum(
      r => r.findings.present,
    )} of ${sum(r => r.findings.expected)}`,
  );
  console.log(
    `orphans ${sum(r => r.findings.orphans.length)}, duplicates ${sum(
      r => r.findings.duplicates.length,
    )}, stuck deleting ${sum(
      r => r.findings.deleting.length,
    )}, Tenants gone before their namespace ${sum(
      r => r.tenantsBeforeNamespace.length,
    )}`,
  );
  for (const r of results) {
    const defects = defectsOf(r);
    if (defects.length) console.log(`  seed ${r.seed}: ${summary(r.findings)}`);
  }
}

runBenchmark(main);
