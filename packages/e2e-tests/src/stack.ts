/**
 * Starts the whole local stack the way a new user does, with
 * `scripts/start.sh` (control plane with the Knative status simulator,
 * operator, Backstage backend and frontend), and stops it afterwards.
 * PAVED_E2E_URL skips the start and uses a stack that is already running.
 */
import { spawn, ChildProcess } from 'child_process';
import fs from 'fs';
import path from 'path';

/** The repository root: the nearest folder up from here with scripts/start.sh. */
function findRepoRoot(): string {
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'scripts', 'start.sh'))) return dir;
    if (path.dirname(dir) === dir) {
      throw new Error('Run the browser test from inside the Paved repository');
    }
  }
}

export const REPO_ROOT = findRepoRoot();
export const APP_URL = process.env.PAVED_E2E_URL ?? 'http://localhost:3000';
const BACKEND_URL = 'http://localhost:7007';

export interface RunningStack {
  logFile?: string;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

export async function startStack(timeoutMs: number): Promise<RunningStack> {
  if (process.env.PAVED_E2E_URL) {
    return { stop: async () => {} };
  }
  if (await answers(`${BACKEND_URL}/.backstage/health/v1/readiness`)) {
    throw new Error(
      'Something already answers on localhost:7007; stop it, or set PAVED_E2E_URL to test that stack',
    );
  }
  const stateDir = path.join(REPO_ROOT, '.paved');
  fs.mkdirSync(stateDir, { recursive: true });
  const logFile = path.join(stateDir, 'e2e-stack.log');
  const out = fs.openSync(logFile, 'w');
  const child: ChildProcess = spawn(
    path.join(REPO_ROOT, 'scripts/start.sh'),
    [],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', out, out],
      detached: true,
      // Jest sets NODE_ENV=test, which the app's browserslist has no entry
      // for; the stack runs as a developer's would.
      env: { ...process.env, NODE_ENV: 'development', BROWSER: 'none' },
    },
  );
  const stop = async () => {
    if (child.exitCode !== null) return;
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
    }, 20_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `scripts/start.sh exited with ${child.exitCode}; see ${logFile}`,
      );
    }
    if (
      (await answers(`${BACKEND_URL}/.backstage/health/v1/readiness`)) &&
      (await answers(APP_URL))
    ) {
      return { logFile, stop };
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `The stack did not come up within ${timeoutMs / 1000}s; see ${logFile}`,
      );
    }
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
}
