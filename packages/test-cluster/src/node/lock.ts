import fs from 'node:fs';
import path from 'node:path';

/**
 * One real node per machine: kubelet and kube-proxy own machine-wide state
 * (netfilter chains with fixed names such as KUBE-SERVICES, the kubepods
 * cgroups, pod network namespaces), so two nodes at once would break each
 * other. A second cluster that wants a node waits here until the first is
 * gone; clusters without a node never take the lock.
 *
 * The lock is a directory (mkdir is atomic) holding the holder's pid and its
 * process start time, so a lock whose holder died (even by SIGKILL, reaper
 * and all) is taken over instead of waited on for ever.
 */
export const NODE_LOCK_DIR =
  process.env.PAVED_NODE_LOCK ?? '/run/paved/node.lock';

interface Holder {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells a live holder from a reused pid. */
  startTime: string;
  cluster: string;
  cwd: string;
}

function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; count from after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function readHolder(): Holder | undefined {
  try {
    return JSON.parse(
      fs.readFileSync(path.join(NODE_LOCK_DIR, 'holder.json'), 'utf8'),
    );
  } catch {
    return undefined;
  }
}

function holderAlive(holder: Holder): boolean {
  return processStartTime(holder.pid) === holder.startTime;
}

/**
 * Takes the node lock for `pid` (the cluster's reaper, which outlives us and
 * releases the lock after its clean-up). Waits, saying so every 30 s, while a
 * live holder has it; fails after `timeoutMs`.
 */
export async function acquireNodeLock(options: {
  pid: number;
  cluster: string;
  timeoutMs: number;
  log: (line: string) => void;
}): Promise<void> {
  const started = Date.now();
  let lastSaid = 0;
  fs.mkdirSync(path.dirname(NODE_LOCK_DIR), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(NODE_LOCK_DIR);
      const holder: Holder = {
        pid: options.pid,
        startTime: processStartTime(options.pid) ?? '',
        cluster: options.cluster,
        cwd: process.cwd(),
      };
      fs.writeFileSync(
        path.join(NODE_LOCK_DIR, 'holder.json'),
        JSON.stringify(holder),
      );
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder();
    const stale = holder
      ? !holderAlive(holder)
      : // Being written right now, or left empty by a crash.
        Date.now() -
          fs.statSync(NODE_LOCK_DIR, { throwIfNoEntry: false })!?.mtimeMs >
        10_000;
    if (stale) {
      options.log(
        `taking over the node lock ${NODE_LOCK_DIR} from a holder that is gone (${
          holder ? `pid ${holder.pid}, ${holder.cwd}` : 'no holder recorded'
        })`,
      );
      fs.rmSync(NODE_LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    const waited = Date.now() - started;
    if (waited > options.timeoutMs) {
      throw new Error(
        `Another real test node is running on this machine (pid ${
          holder?.pid
        }, started from ${holder?.cwd}); waited ${Math.round(
          waited / 1000,
        )} s for it. Stop it, or remove ${NODE_LOCK_DIR} if that process is not a Paved test cluster.`,
      );
    }
    if (Date.now() - lastSaid >= 30_000) {
      lastSaid = Date.now();
      options.log(
        `waiting for the real node of another cluster to stop (pid ${holder?.pid}, ${holder?.cwd}): one node runs on a machine at a time`,
      );
    }
    await new Promise(resolve => setTimeout(resolve, 500));
  }
}

/** Releases the lock if `pid` holds it. */
export function releaseNodeLock(pid: number): void {
  if (readHolder()?.pid === pid) {
    fs.rmSync(NODE_LOCK_DIR, { recursive: true, force: true });
  }
}
