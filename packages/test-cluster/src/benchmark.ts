import { percentile, rssKiB } from './benchKit';
import { startTestCluster } from './cluster';

/**
 * `yarn workspace @paved/test-cluster bench [starts]`: starts and stops the
 * test cluster several times and prints start/stop times and the resident
 * memory of each process after it has been idle for a few seconds.
 */

const rssMiB = (pid: number) => Math.round(rssKiB(pid) / 1024);
const median = (values: number[]) => percentile(values, 50);

export async function benchmark(starts: number) {
  const startMs: number[] = [];
  const apiMs: number[] = [];
  const crdMs: number[] = [];
  const stopMs: number[] = [];
  const rss: Record<string, number[]> = {};
  for (let i = 0; i < starts; i++) {
    const lines: string[] = [];
    const t0 = Date.now();
    const cluster = await startTestCluster({ log: line => lines.push(line) });
    startMs.push(Date.now() - t0);
    const phase = (re: RegExp) =>
      Number(lines.map(l => re.exec(l)?.[1]).find(Boolean) ?? NaN);
    apiMs.push(phase(/kube-apiserver ready in (\d+) ms/));
    crdMs.push(phase(/CRDs established (\d+) ms after/));
    if (i === 0) {
      await new Promise(r => setTimeout(r, 10_000));
      for (const name of [
        'etcd',
        'kube-apiserver',
        'kube-controller-manager',
      ]) {
        (rss[name] ??= []).push(rssMiB(cluster.pids[name]));
      }
    }
    const t1 = Date.now();
    await cluster.stop();
    stopMs.push(Date.now() - t1);
  }
  const row = (name: string, values: number[]) =>
    `${name.padEnd(24)} median ${median(values)} ms  (min ${Math.min(
      ...values,
    )}, max ${Math.max(...values)}, n=${values.length})`;
  console.log(row('start (total)', startMs));
  console.log(row('  kube-apiserver ready', apiMs));
  console.log(row('  then CRDs established', crdMs));
  console.log(row('stop', stopMs));
  const total = Object.values(rss).reduce((sum, [v]) => sum + v, 0);
  console.log(
    `RSS after 10 s idle: ${Object.entries(rss)
      .map(([name, [v]]) => `${name} ${v} MiB`)
      .join(', ')}; total ${total} MiB`,
  );
}
