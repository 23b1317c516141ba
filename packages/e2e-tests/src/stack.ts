/**
 * Starts the whole local stack the way a new user does, with
 * `scripts/start.sh` (a control plane and a real node, Knative Serving and
 * Traefik, the operator, Backstage's backend and frontend), and stops it
 * afterwards. PAVED_E2E_URL skips the start and uses a stack that is already
 * running. Also: what the test needs to know about the stack's cluster.
 */
import { execFile, spawn, ChildProcess } from 'child_process';
import fs from 'fs';
import path from 'path';
import { answers, interruptGroup } from './processes';

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
const STATE_DIR = path.join(REPO_ROOT, '.paved');

export interface RunningStack {
  logFile?: string;
  stop(): Promise<void>;
}

/**
 * Runs scripts/start.sh with `clusterArgs` (handed to the local cluster)
 * until the backend and the frontend answer. Starting includes waiting for
 * the machine's one real node, which other test suites may hold for minutes.
 */
export async function startStack(
  timeoutMs: number,
  clusterArgs: string[] = [],
): Promise<RunningStack> {
  if (process.env.PAVED_E2E_URL) {
    return { stop: async () => {} };
  }
  if (await answers(`${BACKEND_URL}/.backstage/health/v1/readiness`)) {
    throw new Error(
      'Something already answers on localhost:7007; stop it, or set PAVED_E2E_URL to test that stack',
    );
  }
  fs.mkdirSync(STATE_DIR, { recursive: true });
  const logFile = path.join(STATE_DIR, 'e2e-stack.log');
  const out = fs.openSync(logFile, 'w');
  const child: ChildProcess = spawn(
    path.join(REPO_ROOT, 'scripts/start.sh'),
    clusterArgs,
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', out, out],
      detached: true,
      // Jest sets NODE_ENV=test, which the app's browserslist has no entry
      // for; the stack runs as a developer's would.
      env: { ...process.env, NODE_ENV: 'development', BROWSER: 'none' },
    },
  );
  // As Ctrl-C would: start.sh stops its parts, each in a process group of
  // its own, and waits for them, the cluster's node clean-up included.
  const stop = () => interruptGroup(child, 180_000);
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

/**
 * Traefik's port on 127.0.0.1, as the local cluster printed it; 80 (app
 * URLs open as they are) unless it said otherwise.
 */
export function ingressPort(): number {
  const log = path.join(STATE_DIR, 'cluster.log');
  const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
  const ports = [...text.matchAll(/Traefik on 127\.0\.0\.1:(\d+)/g)];
  return ports.length ? Number(ports[ports.length - 1][1]) : 80;
}

/** The kubeconfig of the stack's cluster. */
export const KUBECONFIG =
  process.env.PAVED_E2E_KUBECONFIG ?? path.join(STATE_DIR, 'kubeconfig');

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      file,
      args,
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || error}`))
          : resolve(stdout),
    ),
  );
}

let kubectlPath: Promise<string> | undefined;

/** The kubectl built with the control plane (scripts/test.sh exports its dir). */
function findKubectl(): Promise<string> {
  kubectlPath ??= (async () => {
    let dir = process.env.PAVED_CONTROL_PLANE_BIN;
    if (!dir) {
      const script = path.join(
        REPO_ROOT,
        'packages/test-cluster/scripts/build-control-plane.sh',
      );
      // Prints the (cached) binaries' directory last.
      dir = (await run('bash', [script])).trim().split('\n').pop()!;
    }
    return path.join(dir, 'kubectl');
  })();
  return kubectlPath;
}

/** Runs kubectl against the stack's cluster; resolves to its stdout. */
export async function kubectl(...args: string[]): Promise<string> {
  return run(await findKubectl(), ['--kubeconfig', KUBECONFIG, ...args]);
}

/** Starts kubectl against the stack's cluster, for a command that streams (a watch). */
export async function spawnKubectl(...args: string[]): Promise<ChildProcess> {
  return spawn(await findKubectl(), ['--kubeconfig', KUBECONFIG, ...args]);
}
