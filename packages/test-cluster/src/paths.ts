import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The root of this package (holds scripts/ and go/). */
export const PACKAGE_ROOT = path.dirname(
  require.resolve('@paved/test-cluster/package.json'),
);

/** Where built binaries and resolved module paths are cached, as in the scripts. */
export function cacheRoot(): string {
  if (process.env.PAVED_CACHE_DIR) return process.env.PAVED_CACHE_DIR;
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'paved');
}

/** The binaries the test cluster runs. */
export interface ControlPlaneBinaries {
  dir: string;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubelet: string;
  kubeProxy: string;
  kubectl: string;
}

function binariesIn(dir: string): ControlPlaneBinaries {
  return {
    dir,
    etcd: path.join(dir, 'etcd'),
    kubeApiserver: path.join(dir, 'kube-apiserver'),
    kubeControllerManager: path.join(dir, 'kube-controller-manager'),
    kubeScheduler: path.join(dir, 'kube-scheduler'),
    kubelet: path.join(dir, 'kubelet'),
    kubeProxy: path.join(dir, 'kube-proxy'),
    kubectl: path.join(dir, 'kubectl'),
  };
}

function missingBinaries(bins: ControlPlaneBinaries): string[] {
  return [
    bins.etcd,
    bins.kubeApiserver,
    bins.kubeControllerManager,
    bins.kubeScheduler,
    bins.kubelet,
    bins.kubeProxy,
    bins.kubectl,
  ].filter(file => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
}

/** Runs a command, sending each stderr line to `log`; resolves to stdout. */
export function runCommand(
  file: string,
  args: string[],
  options: { cwd?: string; log?: (line: string) => void; env?: object } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          reject(
            new Error(
              `${file} is not installed or not on PATH; the test cluster needs it`,
            ),
          );
        } else if (error) {
          reject(
            new Error(
              `${path.basename(file)} ${args.join(' ')} failed: ${
                error.message
              }\n${stderr}`,
            ),
          );
        } else {
          resolve(stdout);
        }
      },
    );
    if (options.log) {
      let pending = '';
      child.stderr?.on('data', chunk => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        lines.forEach(line => options.log!(line));
      });
    }
  });
}

let ensured: Promise<ControlPlaneBinaries> | undefined;

/**
 * Finds etcd and Kubernetes' binaries (see scripts/build-control-plane.sh): in
 * `$PAVED_CONTROL_PLANE_BIN` when set (scripts/test.sh sets it), otherwise by
 * running scripts/build-control-plane.sh, which builds them once and then
 * answers from its cache.
 */
export function ensureControlPlaneBinaries(
  log: (line: string) => void = () => {},
): Promise<ControlPlaneBinaries> {
  // Once per process: the script's answer does not change while we run.
  ensured ??= findOrBuildBinaries(log).catch(error => {
    ensured = undefined;
    throw error;
  });
  return ensured;
}

async function findOrBuildBinaries(
  log: (line: string) => void,
): Promise<ControlPlaneBinaries> {
  const fromEnv = process.env.PAVED_CONTROL_PLANE_BIN;
  if (fromEnv) {
    const bins = binariesIn(fromEnv);
    const missing = missingBinaries(bins);
    if (missing.length) {
      throw new Error(
        `PAVED_CONTROL_PLANE_BIN=${fromEnv} lacks ${missing.join(
          ', ',
        )}; unset it, or run packages/test-cluster/scripts/build-control-plane.sh and set it to the directory it prints`,
      );
    }
    return bins;
  }
  const script = path.join(PACKAGE_ROOT, 'scripts', 'build-control-plane.sh');
  const stdout = await runCommand('bash', [script], { log });
  const dir = stdout.trim().split('\n').pop() ?? '';
  const bins = binariesIn(dir);
  const missing = missingBinaries(bins);
  if (!dir || missing.length) {
    throw new Error(
      `${script} did not produce the control-plane binaries (missing ${missing.join(
        ', ',
      )})`,
    );
  }
  return bins;
}

/** Knative's, Traefik's, CoreDNS's, kube-router's binaries and the image tarballs. */
export interface DataPlaneArtifacts {
  /** The directory of scripts/build-data-plane.sh's binaries. */
  binDir: string;
  traefik: string;
  /** The node's NetworkPolicy enforcer. */
  kubeRouter: string;
  /** The directory of scripts/build-images.sh's tarballs. */
  imagesDir: string;
  /** Image name by tarball file name (images.json of build-images.sh). */
  images: Record<string, string>;
}

let dataPlaneEnsured: Promise<DataPlaneArtifacts> | undefined;

/**
 * Builds (once, then from the cache) the data plane's binaries and the
 * images the node runs; `$PAVED_DATA_PLANE_BIN` and `$PAVED_IMAGES_DIR` (set
 * by scripts/test.sh and scripts/start.sh) skip the scripts.
 */
export function ensureDataPlaneArtifacts(
  log: (line: string) => void = () => {},
): Promise<DataPlaneArtifacts> {
  dataPlaneEnsured ??= (async () => {
    const lastLine = (out: string) => out.trim().split('\n').pop() ?? '';
    const script = (name: string) => path.join(PACKAGE_ROOT, 'scripts', name);
    const binDir =
      process.env.PAVED_DATA_PLANE_BIN ||
      lastLine(
        await runCommand('bash', [script('build-data-plane.sh')], { log }),
      );
    const imagesDir =
      process.env.PAVED_IMAGES_DIR ||
      lastLine(
        await runCommand('bash', [script('build-images.sh'), binDir], { log }),
      );
    const imagesFile = path.join(imagesDir, 'images.json');
    const missing = ['traefik', 'kube-router']
      .map(name => path.join(binDir, name))
      .concat(imagesFile)
      .filter(file => !fs.existsSync(file));
    if (missing.length) {
      throw new Error(
        `The data plane is incomplete (no ${missing.join(
          ', ',
        )}); run packages/test-cluster/scripts/build-data-plane.sh and build-images.sh, or unset PAVED_DATA_PLANE_BIN and PAVED_IMAGES_DIR`,
      );
    }
    return {
      binDir,
      traefik: path.join(binDir, 'traefik'),
      kubeRouter: path.join(binDir, 'kube-router'),
      imagesDir,
      images: JSON.parse(fs.readFileSync(imagesFile, 'utf8')),
    };
  })().catch(error => {
    dataPlaneEnsured = undefined;
    throw error;
  });
  return dataPlaneEnsured;
}
