/**
 * What Paved's benchmarks share: percentiles, the machine's load, a
 * process's resident memory, whole-number flags, and a main() runner that
 * exits with the benchmark's outcome. Benchmarks print figures; they are
 * never part of the test suite.
 */
import fs from 'node:fs';
import os from 'node:os';

/** The nearest-rank percentile (`p` in 0–100); NaN for no samples. */
export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(
      sorted.length - 1,
      Math.max(0, Math.ceil((p / 100) * sorted.length) - 1),
    )
  ];
}

/** "load average 1.20 (1 min) 0.90 (5 min), 2 cores, 24 GiB". */
export function machineLoad(): string {
  const [one, five] = os.loadavg();
  return `load average ${one.toFixed(2)} (1 min) ${five.toFixed(2)} (5 min), ${
    os.cpus().length
  } cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
}

/** A process's resident memory (VmRSS) in KiB; 0 once it is gone. */
export function rssKiB(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The value after `flag` as a whole number of at least 1, or an error saying so. */
export function wholeNumberFlag(flag: string, value: string | undefined) {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new Error(`${flag} needs a whole number of at least 1`);
  }
  return number;
}

/** Runs a benchmark's main and exits: 0 when it finished, 1 with the reason when not. */
export function runBenchmark(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    error => {
      // eslint-disable-next-line no-console
      console.error(`bench failed: ${(error as Error).stack ?? error}`);
      process.exit(1);
    },
  );
}
