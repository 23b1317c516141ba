/**
 * A fresh Backstage app, as a platform team has one: made by
 * `@backstage/create-app`, with Paved's packages (built and packed from
 * this checkout) added by following the install guide, installed with the
 * app's own Yarn and started with `yarn start`.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT, answers, interruptGroup } from '@paved/e2e-tests';
import { GuideStep } from './guide';

export { REPO_ROOT };
export const GUIDE = path.join(REPO_ROOT, 'plugins', 'INSTALL.md');

/** The packages a team installs, and the folders they are built from. */
export const PAVED_PACKAGES = [
  'plugins/paved-common',
  'plugins/paved-node',
  'packages/kube',
  'plugins/paved-backend',
  'plugins/catalog-backend-module-paved',
  'plugins/permission-backend-module-paved',
  'plugins/scaffolder-backend-module-paved',
  'plugins/paved',
];

export type Log = (line: string) => void;

/**
 * The environment without what the Yarn and Jest running this test put in
 * it, so that the app's own Yarn and CLI see what a team's shell gives them.
 */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // npm_config_nodedir stays: it is where node-gyp finds Node's headers
    // here (scripts/lib.sh), which it cannot download.
    if (
      (/^(npm_|YARN_|BERRY_|JEST_)/i.test(name) &&
        name !== 'npm_config_nodedir') ||
      ['PROJECT_CWD', 'INIT_CWD', 'NODE_OPTIONS', 'NODE_ENV'].includes(name)
    ) {
      continue;
    }
    env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Runs a command to its end, its output appended to `logFile`; rejects with
 * the last lines of that output when it fails.
 */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; logFile: string; env?: NodeJS.ProcessEnv },
): Promise<void> {
  fs.appendFileSync(
    options.logFile,
    `\n$ (cd ${options.cwd} && ${command} ${args.join(' ')})\n`,
  );
  const out = fs.openSync(options.logFile, 'a');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: cleanEnv(options.env),
      stdio: ['ignore', out, out],
    });
    child.on('error', reject);
    child.on('close', code => {
      fs.closeSync(out);
      if (code === 0) {
        resolve();
        return;
      }
      const tail = fs
        .readFileSync(options.logFile, 'utf8')
        .split('\n')
        .slice(-30)
        .join('\n');
      reject(
        new Error(
          `${command} ${args.join(' ')} (in ${
            options.cwd
          }) exited with ${code}; the end of ${options.logFile}:\n${tail}`,
        ),
      );
    });
  });
}

/** A Yarn project's own Yarn (its `yarnPath`), run by this Node.js. */
function yarnOf(projectDir: string): string[] {
  const rc = YAML.parse(
    fs.readFileSync(path.join(projectDir, '.yarnrc.yml'), 'utf8'),
  );
  return [process.execPath, path.resolve(projectDir, rc.yarnPath)];
}

export function yarn(
  projectDir: string,
  cwd: string,
  args: string[],
  options: { logFile: string; env?: NodeJS.ProcessEnv },
): Promise<void> {
  const [node, release] = yarnOf(projectDir);
  return run(node, [release, ...args], {
    cwd,
    ...options,
    // A new app has no lockfile to keep (Yarn is immutable under CI=true).
    env: { YARN_ENABLE_IMMUTABLE_INSTALLS: 'false', ...options.env },
  });
}

/** A packed package: its name, version and tarball. */
export interface Tarball {
  name: string;
  version: string;
  file: string;
}

/**
 * Builds each of Paved's packages (`backstage-cli package build`, after the
 * type-check that writes the declarations it bundles) and packs it (`yarn
 * pack`) into `outDir`.
 */
export async function packPaved(
  outDir: string,
  logFile: string,
  log: Log,
): Promise<Tarball[]> {
  fs.mkdirSync(outDir, { recursive: true });
  log('type-checking Paved (the declarations the packages bundle)');
  await yarn(REPO_ROOT, REPO_ROOT, ['tsc'], { logFile });
  const tarballs: Tarball[] = [];
  for (const folder of PAVED_PACKAGES) {
    const dir = path.join(REPO_ROOT, folder);
    const manifest = JSON.parse(
      fs.readFileSync(path.join(dir, 'package.json'), 'utf8'),
    );
    log(`building and packing ${manifest.name}`);
    await yarn(REPO_ROOT, dir, ['backstage-cli', 'package', 'build'], {
      logFile,
    });
    const file = path.join(
      outDir,
      `${manifest.name.replace('@', '').replace('/', '-')}-${
        manifest.version
      }.tgz`,
    );
    await yarn(REPO_ROOT, dir, ['pack', '--out', file], { logFile });
    tarballs.push({ name: manifest.name, version: manifest.version, file });
  }
  return tarballs;
}

/** Makes a new app at `appDir` with `@backstage/create-app`, without installing. */
export async function createApp(appDir: string, logFile: string) {
  const bin = require.resolve('@backstage/create-app/bin/backstage-create-app');
  await run(process.execPath, [bin, '--path', appDir, '--skip-install'], {
    cwd: path.dirname(appDir),
    logFile,
    env: { BACKSTAGE_APP_NAME: path.basename(appDir) },
  });
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `extra` merged into `base`: objects key by key, lists appended. */
export function mergeConfig(base: unknown, extra: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(extra)) return [...base, ...extra];
  if (isObject(base) && isObject(extra)) {
    const merged: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(extra)) {
      merged[key] = key in base ? mergeConfig(base[key], value) : value;
    }
    return merged;
  }
  return extra;
}

function readJson(file: string) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}
function writeJson(file: string, value: unknown) {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

export interface ApplyOptions {
  tarballs: Tarball[];
  logFile: string;
  log: Log;
  /** Applies manifests to the cluster. */
  kubectlApply(yaml: string): Promise<void>;
}

/**
 * Does what each step of the guide says, in the app at `appDir`. Packages
 * come from the tarballs: the guide's `yarn add` names them, and each
 * `@paved/*` name (the ones they depend on too) resolves to its tarball
 * through the root's `resolutions`, where a team's registry would serve it.
 */
export async function applyGuide(
  appDir: string,
  steps: GuideStep[],
  options: ApplyOptions,
) {
  const byName = new Map(options.tarballs.map(t => [t.name, t]));
  const rootManifest = path.join(appDir, 'package.json');
  const root = readJson(rootManifest);
  root.resolutions = {
    ...root.resolutions,
    ...Object.fromEntries(
      options.tarballs.map(t => [t.name, `file:${t.file}`]),
    ),
  };
  writeJson(rootManifest, root);

  for (const step of steps) {
    switch (step.kind) {
      case 'upgrade-backstage': {
        // `backstage-cli versions:bump` asks Backstage's release server,
        // which this machine cannot reach; the registry's newest versions
        // are the same release. backstage.json says so, as the bump would.
        options.log(
          "upgrading the app's Backstage packages (yarn up '@backstage/*')",
        );
        await yarn(appDir, appDir, ['up', '@backstage/*'], {
          logFile: options.logFile,
        });
        writeJson(
          path.join(appDir, 'backstage.json'),
          readJson(path.join(REPO_ROOT, 'backstage.json')),
        );
        break;
      }
      case 'dependencies': {
        const file = path.join(appDir, step.workspace, 'package.json');
        const manifest = readJson(file);
        for (const name of step.packages) {
          const tarball = byName.get(name);
          if (!tarball) {
            throw new Error(
              `The guide adds ${name}, which is not one of Paved's packages (${[
                ...byName.keys(),
              ].join(', ')})`,
            );
          }
          manifest.dependencies[name] = `^${tarball.version}`;
        }
        writeJson(file, manifest);
        options.log(`${step.workspace}: added ${step.packages.join(', ')}`);
        break;
      }
      case 'insert': {
        const file = path.join(appDir, step.file);
        const text = fs.readFileSync(file, 'utf8');
        const at = text.indexOf(step.before);
        if (at < 0 || text.indexOf(step.before, at + 1) >= 0) {
          throw new Error(
            `The guide inserts before "${step.before}" in ${
              step.file
            }, which has it ${at < 0 ? 'nowhere' : 'more than once'}`,
          );
        }
        fs.writeFileSync(
          file,
          `${text.slice(0, at)}${step.code}\n${text.slice(at)}`,
        );
        options.log(`${step.file}: inserted the guide's lines`);
        break;
      }
      case 'remove': {
        const file = path.join(appDir, step.file);
        const text = fs.readFileSync(file, 'utf8');
        if (!text.includes(step.code)) {
          throw new Error(
            `The guide removes lines that ${step.file} of a new app does not have (has create-app changed?):\n${step.code}`,
          );
        }
        fs.writeFileSync(file, text.replace(step.code, ''));
        options.log(`${step.file}: removed the guide's lines`);
        break;
      }
      case 'run':
        await run('bash', ['-euo', 'pipefail', '-c', step.script], {
          cwd: appDir,
          logFile: options.logFile,
          env: { PAVED: REPO_ROOT },
        });
        options.log(`ran: ${step.script.trim()}`);
        break;
      case 'merge': {
        const file = path.join(appDir, step.file);
        const merged = mergeConfig(
          YAML.parse(fs.readFileSync(file, 'utf8')),
          YAML.parse(step.yaml),
        );
        fs.writeFileSync(file, YAML.stringify(merged));
        options.log(`${step.file}: merged the guide's configuration`);
        break;
      }
      case 'kubectl-apply':
        await options.kubectlApply(step.yaml);
        break;
      default:
        throw new Error(`Unknown step ${JSON.stringify(step)}`);
    }
  }
}

export interface RunningApp {
  stop(): Promise<void>;
}

/** Backstage's "startup failed" line (and its cause) in the log after `offset`. */
function backendStartupFailure(logFile: string, offset: number) {
  const fd = fs.openSync(logFile, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    fs.readSync(fd, buffer, 0, buffer.length, offset);
    // eslint-disable-next-line no-control-regex
    const text = buffer.toString().replace(/\x1b\[[0-9;]*m/g, '');
    return text.match(
      /Backend startup failed[^\n]*(?:\n[^\n]*caused by[^\n]*)?/,
    )?.[0];
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * `yarn start` in the app (the Backstage CLI's frontend dev server and
 * backend), until `backendUrl` is ready and `appUrl` answers.
 */
export async function startApp(
  appDir: string,
  urls: { backend: string; app: string },
  options: { logFile: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<RunningApp> {
  const readiness = `${urls.backend}/.backstage/health/v1/readiness`;
  if ((await answers(readiness)) || (await answers(urls.app))) {
    throw new Error(
      `Something already answers on ${urls.backend} or ${urls.app}; stop it first`,
    );
  }
  const [node, release] = yarnOf(appDir);
  const logOffset = fs.statSync(options.logFile).size;
  const out = fs.openSync(options.logFile, 'a');
  const child: ChildProcess = spawn(node, [release, 'start'], {
    cwd: appDir,
    // Its own process group, so that stopping reaches the CLI's children.
    detached: true,
    stdio: ['ignore', out, out],
    // The guest provider signs in only in development, as `yarn start` is.
    env: cleanEnv({ ...options.env, NODE_ENV: 'development', BROWSER: 'none' }),
  });
  fs.closeSync(out);
  const stop = () => interruptGroup(child, 20_000);
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `yarn start exited with ${child.exitCode}; see ${options.logFile}`,
      );
    }
    if ((await answers(readiness)) && (await answers(urls.app))) {
      return { stop };
    }
    // The CLI keeps the frontend up when the backend fails to start.
    const failed = backendStartupFailure(options.logFile, logOffset);
    if (failed) {
      await stop();
      throw new Error(`The app's backend did not start: ${failed}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `The app did not start within ${options.timeoutMs / 1000}s; see ${
          options.logFile
        }`,
      );
    }
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
}
