/**
 * What the browser tests need of the processes they start: whether a URL
 * answers yet, and stopping a process group as Ctrl-C would.
 */
import { ChildProcess } from 'node:child_process';

/** True when `url` answers 2xx within 2 s. */
export async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * SIGINT to the process group of `child` (started with `detached: true`),
 * as Ctrl-C in a terminal would; SIGKILL to the group if it has not exited
 * after `graceMs`. Resolves once `child` has exited.
 */
export async function interruptGroup(
  child: ChildProcess,
  graceMs: number,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise(resolve => child.once('exit', resolve));
  try {
    process.kill(-child.pid!, 'SIGINT');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}
