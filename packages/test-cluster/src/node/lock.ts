import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * One real node per machine: kubelet and kube-proxy own machine-wide state
 * (netfilter chains with fixed names such as KUBE-SERVICES, the kubepods
 * cgroups, pod network namespaces), so two nodes at once would break each
 * other. A second cluster that wants a node waits here until the first is
 * gone; clusters without a node never take the lock.
 *
 * The lock is a kernel file lock (flock(1) from util-linux), held by a small
 * detached process for as long as the cluster's reaper lives: the reaper
 * exits only after it has cleaned the node up, and a lock whose holder died,
 * even by SIGKILL, is free at once. No stale-lock guessing.
 */
export const NODE_LOCK_FILE =
  process.env.PAVED_NODE_LOCK ?? '/run/paved/node.lock';
const HOLDER_FILE = `${NODE_LOCK_FILE}.holder`;

export interface NodeLock {
  /** Releases the lock now (the clean-up is done). */
  release(): void;
}

/**
 * Takes the node lock on behalf of `holderPid` (the cluster's reaper). Waits,
 * saying so every 30 s and naming who holds it, for up to `timeoutMs`.
 */
export async function acquireNodeLock(options: {
  holderPid: number;
  cluster: string;
  timeoutMs: number;
  log: (line: string) => void;
}): Promise<NodeLock> {
  fs.mkdirSync(path.dirname(NODE_LOCK_FILE), { recursive: true });
  const seconds = Math.ceil(options.timeoutMs / 1000);
  const child = spawn(
    'flock',
    [
      '--exclusive',
      '--wait',
      String(seconds),
      NODE_LOCK_FILE,
      'sh',
      '-c',
      // Say so once the lock is ours, then hold it while the reaper lives.
      `echo locked; while kill -0 ${options.holderPid} 2>/dev/null; do sleep 0.5; done`,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  child.unref();
  const started = Date.now();
  const said = setInterval(() => {
    let holder = 'another cluster';
    try {
      const h = JSON.parse(fs.readFileSync(HOLDER_FILE, 'utf8'));
      holder = `the cluster ${h.cluster} (started from ${h.cwd})`;
    } catch {
      // No holder recorded: say less.
    }
    options.log(
      `waiting ${Math.round(
        (Date.now() - started) / 1000,
      )} s for the real node of ${holder} to stop: one node runs on a machine at a time`,
    );
  }, 30_000);
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', chunk => {
        out += chunk;
        if (out.includes('locked')) resolve();
      });
      child.once('error', error =>
        reject(
          new Error(
            `Cannot take the node lock ${NODE_LOCK_FILE} with flock(1) (util-linux): ${error.message}`,
          ),
        ),
      );
      child.once('exit', code =>
        reject(
          new Error(
            `Another real test node held ${NODE_LOCK_FILE} for ${seconds} s (flock exited ${code}); stop that cluster, or wait for it`,
          ),
        ),
      );
    });
  } finally {
    clearInterval(said);
  }
  child.stdout!.destroy();
  fs.writeFileSync(
    HOLDER_FILE,
    JSON.stringify({ cluster: options.cluster, cwd: process.cwd() }),
  );
  return {
    release() {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone with its reaper.
      }
    },
  };
}
