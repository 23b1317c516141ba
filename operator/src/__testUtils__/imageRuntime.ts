/**
 * How the operator image runs the operator, read from operator/Dockerfile
 * (its ENTRYPOINT and ENV), for what runs the same bundle otherwise: the
 * test cluster's operator image and the benchmark. One place says which
 * Node.js flags and allocator settings the operator runs with.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const DOCKERFILE = path.resolve(__dirname, '..', '..', 'Dockerfile');

export interface ImageRuntime {
  /** The whole ENTRYPOINT: the node binary, its flags, the bundle. */
  entrypoint: string[];
  /** Node.js's own flags: the ENTRYPOINT between the binary and the bundle. */
  nodeFlags: string[];
  /** The final stage's ENV. */
  env: Record<string, string>;
}

export function imageRuntime(dockerfile = DOCKERFILE): ImageRuntime {
  const text = fs.readFileSync(dockerfile, 'utf8');
  // The final stage: everything after the last FROM.
  const froms = [...text.matchAll(/^FROM\s/gm)];
  const stage = text.slice(froms.length ? froms[froms.length - 1].index : 0);
  const entrypointLine = stage.match(/^ENTRYPOINT\s+(\[.*\])\s*$/m);
  if (!entrypointLine) {
    throw new Error(`${dockerfile}: no ENTRYPOINT [...] in the final stage`);
  }
  const entrypoint: unknown = JSON.parse(entrypointLine[1]);
  if (
    !Array.isArray(entrypoint) ||
    entrypoint.length < 2 ||
    !entrypoint.every(e => typeof e === 'string') ||
    !/\/node$/.test(entrypoint[0]) ||
    !/\.js$/.test(entrypoint[entrypoint.length - 1])
  ) {
    throw new Error(
      `${dockerfile}: the ENTRYPOINT is no longer ["…/node", flags…, "…/main.js"]: ${entrypointLine[1]}`,
    );
  }
  const env: Record<string, string> = {};
  for (const [, pairs] of stage.matchAll(/^ENV\s+(.+)$/gm)) {
    for (const pair of pairs.trim().split(/\s+/)) {
      const [key, value] = pair.split('=');
      if (!key || value === undefined) {
        throw new Error(`${dockerfile}: ENV ${pairs}: want KEY=VALUE pairs`);
      }
      env[key] = value;
    }
  }
  return {
    entrypoint: entrypoint as string[],
    nodeFlags: (entrypoint as string[]).slice(1, -1),
    env,
  };
}

/**
 * Node.js's arguments and the environment that run `bundle` as the image
 * runs it (the benchmarks' operator). `OPERATOR_NODE_FLAGS` replaces the
 * image's Node.js flags, to compare others in one sitting.
 */
export function asTheImageRunsIt(
  bundle: string,
  env: NodeJS.ProcessEnv = process.env,
): { args: string[]; env: Record<string, string> } {
  const runtime = imageRuntime();
  const flags =
    env.OPERATOR_NODE_FLAGS !== undefined
      ? env.OPERATOR_NODE_FLAGS.split(' ').filter(Boolean)
      : runtime.nodeFlags;
  return { args: [...flags, bundle], env: runtime.env };
}

/**
 * Starts `bundle` as the image runs it, as the benchmarks' operator: not
 * leader-elected, against `kubeconfigPath`, metrics on 127.0.0.1:`port`,
 * warnings only; `env` adds to (or overrides) that.
 */
export function spawnBundledOperator(
  bundle: string,
  options: {
    kubeconfigPath: string;
    port: number;
    env?: Record<string, string>;
  },
): ChildProcess {
  const image = asTheImageRunsIt(bundle);
  return spawn(process.execPath, image.args, {
    env: {
      ...process.env,
      ...image.env,
      KUBECONFIG: options.kubeconfigPath,
      PAVED_LEADER_ELECTION: 'false',
      PAVED_METRICS_PORT: String(options.port),
      PAVED_METRICS_HOST: '127.0.0.1',
      PAVED_LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}
