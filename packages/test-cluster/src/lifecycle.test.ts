import { spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import { CRDS, KubeClient, KubeConfigLike, NAMESPACES } from '@paved/kube';
import { startTestCluster } from './cluster';
import { PACKAGE_ROOT } from './paths';

/** True while a process exists and is not a zombie. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitUntilGone(pids: number[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 100));
  }
  return pids.filter(isAlive);
}

async function crdExists(kc: KubeConfigLike, name: string): Promise<boolean> {
  const client = await KubeClient.fromKubeConfig(kc);
  try {
    return (await client.tryGet(CRDS, name)) !== undefined;
  } finally {
    client.close();
  }
}

/**
 * Starts a cluster in a separate Node process, prints its pids and dir, and
 * then ends that process the way `how` says.
 */
async function clusterInChildProcess(how: 'exit' | 'SIGKILL') {
  const script = `
    const { startTestCluster } = require('./src/cluster');
    startTestCluster({ capsule: false, cilium: false, knative: false }).then(c => {
      console.log(JSON.stringify({ pids: c.pids, dir: c.dir }));
      ${how === 'exit' ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}
    }, e => { console.error(e); process.exit(2); });
  `;
  const child = spawn(
    process.execPath,
    ['-r', '@backstage/cli/config/nodeTransform.cjs', '-e', script],
    { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise(resolve => child.once('exit', resolve));
  const lines = readline.createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', code => reject(new Error(`child exited with ${code}`)));
  });
  const started = JSON.parse(first) as {
    pids: Record<string, number>;
    dir: string;
  };
  if (how === 'SIGKILL') child.kill('SIGKILL');
  await exited;
  return started;
}

describe('test cluster lifecycle', () => {
  it('starts without Capsule and Cilium CRDs, and stop() leaves nothing behind', async () => {
    const cluster = await startTestCluster({ capsule: false, cilium: false });
    try {
      const kc = cluster.kubeConfig;
      expect(await crdExists(kc, 'tenants.capsule.clastix.io')).toBe(false);
      expect(await crdExists(kc, 'ciliumnetworkpolicies.cilium.io')).toBe(
        false,
      );
      expect(await crdExists(kc, 'services.serving.knative.dev')).toBe(true);
      expect(await crdExists(kc, 'apps.paved.dev')).toBe(true);
      expect(cluster.crds).toEqual({
        paved: true,
        knative: true,
        capsule: false,
        cilium: false,
      });
    } finally {
      await cluster.stop();
    }
    expect(Object.values(cluster.pids).filter(isAlive)).toEqual([]);
    expect(fs.existsSync(cluster.dir)).toBe(false);
    await cluster.stop(); // a second stop is harmless
  }, 120_000);

  it('with supervise, starts a part that died again, and the data stays', async () => {
    const cluster = await startTestCluster({
      capsule: false,
      cilium: false,
      supervise: true,
    });
    // Short timeouts: a request to a killed process is retried.
    const client = await KubeClient.fromKubeConfig(cluster.kubeConfig, {
      timeoutMs: 5000,
    });
    try {
      await client.create(NAMESPACES, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'survives' },
      });
      for (const part of ['kube-apiserver', 'etcd']) {
        const before = cluster.pids[part];
        process.kill(before, 'SIGKILL');
        const deadline = Date.now() + 60_000;
        for (;;) {
          const back = await client
            .get(NAMESPACES, 'survives')
            .then(() => cluster.pids[part] !== before)
            .catch(() => false);
          if (back) break;
          if (Date.now() > deadline) {
            throw new Error(`${part} was not started again within 60 s`);
          }
          await new Promise(r => setTimeout(r, 250));
        }
      }
    } finally {
      client.close();
      await cluster.stop();
    }
    expect(Object.values(cluster.pids).filter(isAlive)).toEqual([]);
  }, 180_000);

  it('kills the control plane when Node exits without stop()', async () => {
    const { pids, dir } = await clusterInChildProcess('exit');
    expect(await waitUntilGone(Object.values(pids), 10_000)).toEqual([]);
    // The exit hook kills synchronously; the reaper removes the directory.
    const deadline = Date.now() + 10_000;
    while (fs.existsSync(dir) && Date.now() < deadline) {
      await new Promise(r => setTimeout(r, 100));
    }
    expect(fs.existsSync(dir)).toBe(false);
  }, 120_000);

  it('kills the control plane when Node is killed with SIGKILL', async () => {
    const { pids, dir } = await clusterInChildProcess('SIGKILL');
    expect(await waitUntilGone(Object.values(pids), 15_000)).toEqual([]);
    const deadline = Date.now() + 10_000;
    while (fs.existsSync(dir) && Date.now() < deadline) {
      await new Promise(r => setTimeout(r, 100));
    }
    expect(fs.existsSync(dir)).toBe(false);
  }, 120_000);
});
