import fs from 'node:fs';
import path from 'node:path';
import { CRDS, KubeClient, KubeConfigLike, resourcePath } from '@paved/kube';
import { parseAllDocuments } from 'yaml';
import { cacheRoot, PACKAGE_ROOT, runCommand } from './paths';

/** The upstream projects whose CRDs the test cluster can install. */
export type UpstreamProject = 'knative' | 'capsule' | 'cilium';

/**
 * Where each upstream CRD lives inside its project's Go module. The versions
 * are pinned in go/crds/go.mod (one place); the files are read from the Go
 * module cache, never copied into this repository.
 */
export const UPSTREAM_CRD_FILES: Record<
  UpstreamProject,
  { module: string; files: string[] }
> = {
  knative: {
    module: 'knative.dev/serving',
    files: [
      'config/core/300-resources/service.yaml',
      'config/core/300-resources/revision.yaml',
      'config/core/300-resources/domain-mapping.yaml',
    ],
  },
  capsule: {
    module: 'github.com/projectcapsule/capsule',
    files: ['charts/capsule/crds/capsule.clastix.io_tenants.yaml'],
  },
  cilium: {
    module: 'github.com/cilium/cilium',
    files: ['pkg/k8s/apis/cilium.io/client/crds/v2/ciliumnetworkpolicies.yaml'],
  },
};

const CRD_MODULE_DIR = path.join(PACKAGE_ROOT, 'go', 'crds');

/** The module versions pinned in go/crds/go.mod, by module path. */
export function pinnedUpstreamVersions(): Record<string, string> {
  const goMod = fs.readFileSync(path.join(CRD_MODULE_DIR, 'go.mod'), 'utf8');
  const versions: Record<string, string> = {};
  for (const match of goMod.matchAll(
    /^\s*(?:require\s+)?([a-z0-9./-]+)\s+(v[0-9][^\s]*)\s*$/gm,
  )) {
    versions[match[1]] = match[2];
  }
  return versions;
}

type ModuleDirCache = Record<string, string>;

const moduleDirCacheFile = () =>
  path.join(cacheRoot(), 'upstream-crd-modules.json');

function readModuleDirCache(): ModuleDirCache {
  try {
    return JSON.parse(fs.readFileSync(moduleDirCacheFile(), 'utf8'));
  } catch {
    return {};
  }
}

/**
 * The unpacked directory of `module@version` in the Go module cache. Asks
 * `go mod download` (from go/crds, so go.sum verifies the download) the first
 * time and remembers the answer in ~/.cache/paved, so test runs do not start
 * Go. scripts/build-control-plane.sh downloads the modules ahead of time.
 */
export async function upstreamModuleDir(
  module: string,
  log: (line: string) => void = () => {},
): Promise<string> {
  const version = pinnedUpstreamVersions()[module];
  if (!version) {
    throw new Error(
      `${module} is not pinned in ${path.join(CRD_MODULE_DIR, 'go.mod')}`,
    );
  }
  const key = `${module}@${version}`;
  const cached = readModuleDirCache()[key];
  if (cached && fs.existsSync(cached)) return cached;

  log(`downloading ${key} from the Go module proxy for its CRDs...`);
  const stdout = await runCommand('go', ['mod', 'download', '-json', key], {
    cwd: CRD_MODULE_DIR,
  }).catch(error => {
    throw new Error(
      `Cannot get the CRDs of ${key}: ${error.message}\nIs Go installed and the Go module proxy reachable? scripts/build-control-plane.sh needs both once.`,
    );
  });
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) {
    throw new Error(`go mod download ${key} failed: ${info.Error}`);
  }
  const updated = { ...readModuleDirCache(), [key]: info.Dir };
  fs.mkdirSync(path.dirname(moduleDirCacheFile()), { recursive: true });
  const tmp = `${moduleDirCacheFile()}.${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(updated, null, 2));
  fs.renameSync(tmp, moduleDirCacheFile());
  return info.Dir;
}

/** A CustomResourceDefinition, as far as the harness reads one. */
export interface CustomResourceDefinition {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; resourceVersion?: string; [key: string]: unknown };
  spec: {
    group: string;
    names: { plural: string; [key: string]: unknown };
    versions: Array<{
      name: string;
      storage?: boolean;
      [key: string]: unknown;
    }>;
    [key: string]: unknown;
  };
  status?: { conditions?: Array<{ type: string; status: string }> };
  [key: string]: unknown;
}
type Crd = CustomResourceDefinition;

/** Reads every CustomResourceDefinition from a (possibly multi-document) YAML file. */
export function readCrdFile(file: string): Crd[] {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'));
  const crds: Crd[] = [];
  for (const doc of docs) {
    if (doc.errors.length) {
      throw new Error(`${file} is not valid YAML: ${doc.errors[0].message}`);
    }
    const value = doc.toJS();
    if (value?.kind === 'CustomResourceDefinition') crds.push(value);
  }
  if (!crds.length) {
    throw new Error(`${file} holds no CustomResourceDefinition`);
  }
  return crds;
}

/** Paved's own CRDs, as committed in plugins/paved-common/crds. */
export function pavedCrdFiles(): string[] {
  const common = path.dirname(
    require.resolve('@paved/plugin-paved-common/package.json'),
  );
  const dir = path.join(common, 'crds');
  return fs
    .readdirSync(dir)
    .filter(file => file.endsWith('.yaml'))
    .sort()
    .map(file => path.join(dir, file));
}

/** The CRD files of the chosen upstream projects, from the Go module cache. */
export async function upstreamCrdFiles(
  projects: UpstreamProject[],
  log?: (line: string) => void,
): Promise<string[]> {
  const files = await Promise.all(
    projects.map(async project => {
      const { module, files: relative } = UPSTREAM_CRD_FILES[project];
      const dir = await upstreamModuleDir(module, log);
      return relative.map(file => path.join(dir, file));
    }),
  );
  return files.flat();
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Errors worth retrying while the API server is still starting. */
function isTransient(error: unknown): boolean {
  // KubeApiError carries the HTTP status, 0 when no answer came.
  const code = (error as { code?: unknown }).code;
  return typeof code !== 'number' || code === 0 || code === 429 || code >= 500;
}

/** Runs `task` with a client of `kubeConfig`, closed after. */
async function withClient<T>(
  kubeConfig: KubeConfigLike,
  task: (client: KubeClient) => Promise<T>,
): Promise<T> {
  const client = await KubeClient.fromKubeConfig(kubeConfig);
  try {
    return await task(client);
  } finally {
    client.close();
  }
}

/**
 * Creates the CRDs, or replaces them when they exist. Retries connection
 * errors, 429 and 5xx until the deadline, so it can run while the API server
 * is still starting; a CRD the server rejects (4xx) fails at once.
 */
export async function createCrds(
  kubeConfig: KubeConfigLike,
  crds: Crd[],
  options: { timeoutMs?: number; cancelled?: () => boolean } = {},
): Promise<void> {
  await withClient(kubeConfig, client => createWith(client, crds, options));
}

async function createWith(
  client: KubeClient,
  crds: Crd[],
  options: { timeoutMs?: number; cancelled?: () => boolean },
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const createOrReplace = async (body: Crd) => {
    const name = body.metadata.name;
    try {
      await client.create(CRDS, body);
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
      const existing = await client.get<Crd>(CRDS, name);
      await client.replace(CRDS, {
        ...body,
        metadata: {
          ...body.metadata,
          resourceVersion: existing.metadata.resourceVersion,
        },
      });
    }
  };
  await Promise.all(
    crds.map(async body => {
      for (;;) {
        try {
          await createOrReplace(body);
          return;
        } catch (error) {
          if (options.cancelled?.()) return;
          if (!isTransient(error) || Date.now() > deadline) {
            throw new Error(
              `Cannot install CRD ${body.metadata.name}: ${
                (error as Error).message
              }`,
            );
          }
          await sleep(100);
        }
      }
    }),
  );
}

/**
 * Creates the CRDs (or replaces them when they exist) and waits until the API
 * server reports every one Established, i.e. serving its resources.
 */
export async function installCrds(
  kubeConfig: KubeConfigLike,
  crds: Crd[],
  timeoutMs = 60_000,
): Promise<void> {
  await createCrds(kubeConfig, crds, { timeoutMs });
  await waitForCrds(kubeConfig, crds, timeoutMs);
}

/**
 * Waits until the API server reports every CRD Established and its watch
 * cache answers watches.
 */
export async function waitForCrds(
  kubeConfig: KubeConfigLike,
  crds: Crd[],
  timeoutMs = 60_000,
): Promise<void> {
  await withClient(kubeConfig, client => waitWith(client, crds, timeoutMs));
}

async function waitWith(
  client: KubeClient,
  crds: Crd[],
  timeoutMs: number,
): Promise<void> {
  const names = new Set(crds.map(crd => crd.metadata.name));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await client.list<Crd>(CRDS);
    const pending = [...names].filter(name => {
      const crd = list.items.find(item => item.metadata?.name === name);
      return !crd?.status?.conditions?.some(
        c => c.type === 'Established' && c.status === 'True',
      );
    });
    if (!pending.length) break;
    if (Date.now() > deadline) {
      throw new Error(
        `CRDs not Established after ${timeoutMs} ms: ${pending.join(', ')}`,
      );
    }
    await sleep(50);
  }
  // Established means served, but the watch cache of a new resource answers
  // watches with 429 until it has initialized. Wait for that too, so tests
  // start against a cluster that behaves as a long-running one does.
  for (const crd of crds) {
    const version =
      crd.spec.versions.find(v => v.storage) ?? crd.spec.versions[0];
    const listPath = resourcePath({
      group: crd.spec.group,
      version: version.name,
      plural: crd.spec.names.plural,
      kind: '',
      namespaced: false,
    });
    // The status of a watch, without waiting for it to end.
    const watchable = () =>
      client.statusOf(listPath, { query: { watch: 1, timeoutSeconds: 1 } });
    while ((await watchable()) !== 200) {
      if (Date.now() > deadline) {
        throw new Error(
          `${crd.metadata.name} not watchable after ${timeoutMs} ms`,
        );
      }
      await sleep(50);
    }
  }
}
