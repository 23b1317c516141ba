import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * The reaper is a tiny detached Node process that outlives us only to clean
 * up after us: it holds the read end of a pipe from this process, and when
 * that pipe closes (we exited, crashed, got SIGINT/SIGTERM or SIGKILL) it
 * kills every process group it was told about, waits until they are gone and
 * removes the cluster's directory. We tell it `+pid` on start, `-pid` once a
 * child has exited (so a reused pid is never killed), `run <json argv>` for a
 * clean-up command to run once they are gone (a real node's mounts, bridge
 * and netfilter chains), `dir <path>` for each directory to remove after that,
 * in order (the cluster's, then a lock's), and `done` when the cluster stopped
 * cleanly.
 */
const REAPER_SOURCE = `
process.title = 'paved-test-cluster-reaper';
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const pids = new Set();
const dirs = [];
const commands = [];
let buffer = '';
const alive = pid => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped by its new parent) counts as gone.
  try {
    return !/^\\d+ \\(.*\\) Z/.test(fs.readFileSync('/proc/' + pid + '/stat', 'utf8'));
  } catch {
    return true;
  }
};
const killAll = signal => {
  for (const pid of pids) {
    try { process.kill(-pid, signal); } catch { try { process.kill(pid, signal); } catch {} }
  }
};
const finish = () => {
  for (const argv of commands) {
    try { spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', timeout: 60000 }); } catch {}
  }
  for (const dir of dirs) {
    try { fs.rmSync(dir, { recursive: true, force: true }); } catch {}
  }
  process.exit(0);
};
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
process.on('SIGHUP', () => {});
process.stdin.on('data', chunk => {
  buffer += chunk;
  const lines = buffer.split('\\n');
  buffer = lines.pop();
  for (const line of lines) {
    if (line === 'done') process.exit(0);
    if (line.startsWith('dir ')) dirs.push(line.slice(4));
    if (line.startsWith('run ')) commands.push(JSON.parse(line.slice(4)));
    if (line.startsWith('+')) pids.add(Number(line.slice(1)));
    if (line.startsWith('-')) pids.delete(Number(line.slice(1)));
  }
});
process.stdin.on('end', () => {
  killAll('SIGTERM');
  const started = Date.now();
  const poll = setInterval(() => {
    const left = [...pids].filter(alive);
    if (!left.length) {
      clearInterval(poll);
      finish();
    } else if (Date.now() - started > 3000) {
      killAll('SIGKILL');
    }
  }, 50);
});
process.stdin.resume();
`;

/** Watches over the processes of one cluster; see REAPER_SOURCE. */
export class Reaper {
  private readonly child: ChildProcess;

  constructor() {
    this.child = spawn(process.execPath, ['-e', REAPER_SOURCE], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    this.child.unref();
    (this.child.stdin as net.Socket).unref();
    this.child.stdin!.on('error', () => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  watch(pid: number) {
    this.child.stdin!.write(`+${pid}\n`);
  }

  /** A directory to remove once the processes are gone (in call order). */
  removeWhenDone(dir: string) {
    this.child.stdin!.write(`dir ${dir}\n`);
  }

  /** A command to run once the processes are gone, before directories go. */
  runWhenDone(argv: string[]) {
    this.child.stdin!.write(`run ${JSON.stringify(argv)}\n`);
  }

  forget(pid: number) {
    this.child.stdin!.write(`-${pid}\n`);
  }

  /** Tells the reaper to exit; resolves once it has. */
  async done(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>(resolve =>
      this.child.once('exit', () => resolve()),
    );
    // Keep Node alive until the reaper is gone, so no stray is left behind.
    this.child.ref();
    this.child.stdin!.end('done\n');
    await exited;
  }
}

/** Every live child of every cluster, killed synchronously if Node exits. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }
  });
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface StartOptions {
  name: string;
  command: string;
  args: string[];
  logDir: string;
  reaper: Reaper;
  /** Added to this process's environment. */
  env?: Record<string, string>;
}

/**
 * One process of a cluster with its output in a log file; optionally
 * supervised (started again when it dies), as a long-lived local stack wants.
 */
export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  private current!: {
    child: ChildProcess;
    exited: Promise<ExitStatus>;
    status?: ExitStatus;
  };
  private stopping = false;
  private restartLog?: (line: string) => void;
  private backoffMs = 1000;
  private maxBackoffMs = 30_000;
  private restartTimer?: NodeJS.Timeout;
  /** How often it was started again after dying. */
  restarts = 0;

  private constructor(private readonly options: StartOptions) {
    this.name = options.name;
    this.logFile = path.join(options.logDir, `${options.name}.log`);
    this.spawnChild();
  }

  static start(options: StartOptions): ManagedProcess {
    installExitHook();
    return new ManagedProcess(options);
  }

  /** The process now running (a new one after each restart). */
  get child(): ChildProcess {
    return this.current.child;
  }

  /** Resolves when the current process exits. */
  get exited(): Promise<ExitStatus> {
    return this.current.exited;
  }

  private spawnChild() {
    const { options } = this;
    const fd = fs.openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(options.command, options.args, {
        stdio: ['ignore', fd, fd],
        env: options.env ? { ...process.env, ...options.env } : process.env,
        // A process group of its own: Ctrl-C in a terminal reaches only us,
        // and we stop the cluster in order.
        detached: true,
      });
      if (child.pid === undefined) {
        throw new Error(`Cannot start ${options.command}`);
      }
    } finally {
      fs.closeSync(fd);
    }
    const started = Date.now();
    liveChildren.add(child);
    options.reaper.watch(child.pid);
    const current: ManagedProcess['current'] = {
      child,
      exited: new Promise(resolve => {
        child.once('exit', (code, signal) => {
          current.status = { code, signal };
          liveChildren.delete(child);
          options.reaper.forget(child.pid!);
          resolve(current.status);
          if (this.restartLog && !this.stopping) this.scheduleRestart(started);
        });
      }),
    };
    this.current = current;
  }

  private scheduleRestart(startedAt: number) {
    // A process that ran a while before dying starts the backoff afresh.
    if (Date.now() - startedAt > 60_000) this.backoffMs = 1000;
    const status = this.current.status;
    this.restartLog!(
      `${this.name} exited (${
        status?.signal ?? `code ${status?.code}`
      }); starting it again in ${this.backoffMs / 1000} s (log: ${
        this.logFile
      })`,
    );
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.restarts++;
      this.spawnChild();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
  }

  /**
   * From now on, start it again whenever it exits by itself (not through
   * stop()), after a backoff that doubles from 1 s to `maxBackoffMs`
   * (default 30 s); `log` hears about each restart.
   */
  supervise(log: (line: string) => void, maxBackoffMs = 30_000) {
    this.restartLog = log;
    this.maxBackoffMs = maxBackoffMs;
    this.backoffMs = Math.min(this.backoffMs, maxBackoffMs);
    if (!this.running && !this.stopping) this.scheduleRestart(Date.now());
  }

  get running(): boolean {
    return this.current.status === undefined;
  }

  get exitStatus(): ExitStatus | undefined {
    return this.current.status;
  }

  /** The last lines of the process's output, for error messages. */
  logTail(lines = 20): string {
    try {
      return fs
        .readFileSync(this.logFile, 'utf8')
        .trimEnd()
        .split('\n')
        .slice(-lines)
        .join('\n');
    } catch {
      return '';
    }
  }

  /**
   * SIGTERM, then SIGKILL after `graceMs` (at once when 0); resolves once the
   * process exited.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    if (!this.running) return;
    this.signal(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private signal(signal: NodeJS.Signals) {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      this.child.kill(signal);
    }
  }
}

/** Free TCP ports on 127.0.0.1, all different. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map(
    server => (server.address() as net.AddressInfo).port,
  );
  await Promise.all(
    servers.map(server => new Promise(resolve => server.close(resolve))),
  );
  return ports;
}
