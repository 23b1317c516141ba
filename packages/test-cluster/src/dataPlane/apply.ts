import fs from 'node:fs';
import {
  DEPLOYMENTS,
  KubeClient,
  KubeConfigLike,
  PODS,
  ResourceType,
} from '@paved/kube';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as read from a manifest. */
export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; [key: string]: any };
} & Record<string, any>;

const FIELD_MANAGER = 'paved-test-cluster';

/** Every object of a multi-document YAML file (empty documents skipped). */
export function readManifest(file: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
    if (doc.errors.length) {
      throw new Error(`${file} is not valid YAML: ${doc.errors[0].message}`);
    }
    const value = doc.toJS();
    if (value?.kind) objects.push(value);
  }
  return objects;
}

/**
 * The resource type of a manifest's kind, from the API server's discovery
 * (as kubectl finds it), remembered per group version.
 */
function typeResolver(client: KubeClient) {
  const served = new Map<string, Promise<ResourceType[]>>();
  const load = async (apiVersion: string) => {
    const list = await client.discover(apiVersion);
    if (!list) throw new Error(`${apiVersion} is not served (yet)`);
    const [group, version] = apiVersion.includes('/')
      ? apiVersion.split('/')
      : ['', apiVersion];
    return list.resources
      .filter(r => !r.name.includes('/'))
      .map(r => ({
        group,
        version,
        plural: r.name,
        kind: r.kind,
        namespaced: Boolean(r.namespaced),
      }));
  };
  return async (object: KubeObject): Promise<ResourceType> => {
    const apiVersion = object.apiVersion ?? '';
    let types = served.get(apiVersion);
    if (!types) {
      types = load(apiVersion);
      served.set(apiVersion, types);
      // A group that is not served yet (a CRD just created) is asked again.
      types.catch(() => served.delete(apiVersion));
    }
    const type = (await types).find(t => t.kind === object.kind);
    if (!type) {
      served.delete(apiVersion);
      throw new Error(`${apiVersion} serves no kind ${object.kind} (yet)`);
    }
    return type;
  };
}

const isCrd = (o: KubeObject) => o.kind === 'CustomResourceDefinition';
const isNamespace = (o: KubeObject) => o.kind === 'Namespace';

/**
 * Server-side applies the objects, as `kubectl apply --server-side` would:
 * namespaces and CRDs first (waiting until each CRD is served), then the rest.
 * Retries a while on errors that a starting cluster gives (a webhook whose
 * pod is not up yet, a CRD that discovery does not show yet).
 */
export async function applyObjects(
  kubeConfig: KubeConfigLike,
  objects: KubeObject[],
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const client = await KubeClient.fromKubeConfig(kubeConfig);
  const typeOf = typeResolver(client);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const applyOne = async (object: KubeObject) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const type = await typeOf(object);
        // As kubectl does: a namespaced object without one goes to default.
        const body =
          type.namespaced && !object.metadata?.namespace
            ? {
                ...object,
                metadata: { ...object.metadata, namespace: 'default' },
              }
            : object;
        await client.apply(type, body as any, { fieldManager: FIELD_MANAGER });
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(
            `Cannot apply ${object.kind} ${object.metadata?.namespace ?? ''}/${
              object.metadata?.name
            }: ${(error as Error).message}`,
          );
        }
        await new Promise(r => setTimeout(r, 500));
      }
    }
  };
  try {
    await Promise.all(objects.filter(isNamespace).map(applyOne));
    await Promise.all(objects.filter(isCrd).map(applyOne));
    await Promise.all(
      objects.filter(o => !isNamespace(o) && !isCrd(o)).map(applyOne),
    );
  } finally {
    client.close();
  }
}

/** Waits until every Deployment in `namespace` has all replicas available. */
export async function waitForDeployments(
  kubeConfig: KubeConfigLike,
  namespace: string,
  timeoutMs: number,
  describe: () => Promise<string> = async () => '',
): Promise<void> {
  const client = await KubeClient.fromKubeConfig(kubeConfig);
  try {
    await waitWith(client, namespace, timeoutMs, describe);
  } finally {
    client.close();
  }
}

interface Deployment {
  metadata: { name: string; generation?: number };
  spec?: { replicas?: number };
  status?: { availableReplicas?: number; observedGeneration?: number };
}

async function waitWith(
  client: KubeClient,
  namespace: string,
  timeoutMs: number,
  describe: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await client
      .list<Deployment & { [key: string]: unknown }>(DEPLOYMENTS, { namespace })
      .catch(() => undefined);
    const waiting = (list?.items ?? []).filter(
      d =>
        (d.status?.availableReplicas ?? 0) < (d.spec?.replicas ?? 1) ||
        d.status?.observedGeneration !== d.metadata?.generation,
    );
    if (list && list.items.length && !waiting.length) return;
    if (Date.now() > deadline) {
      throw new Error(
        `Deployments in ${namespace} not available after ${timeoutMs} ms: ${waiting
          .map(d => d.metadata?.name)
          .join(', ')}\n${await describe()}`,
      );
    }
    await new Promise(r => setTimeout(r, 500));
  }
}

interface Pod {
  metadata: { name: string };
  status?: {
    phase?: string;
    containerStatuses?: Array<{
      name: string;
      ready: boolean;
      state?: Record<string, { reason?: string; message?: string } | undefined>;
    }>;
    conditions?: Array<{ type: string; status: string; message?: string }>;
  };
}

/** A one-line-per-pod summary of why pods in `namespace` are not ready. */
export async function describePods(
  kubeConfig: KubeConfigLike,
  namespace: string,
): Promise<string> {
  const client = await KubeClient.fromKubeConfig(kubeConfig);
  const pods = await client
    .list<Pod & { [key: string]: unknown }>(PODS, { namespace })
    .catch(() => undefined)
    .finally(() => client.close());
  return (pods?.items ?? [])
    .map(pod => {
      const states = (pod.status?.containerStatuses ?? []).map(c => {
        const state = c.state?.waiting ?? c.state?.terminated;
        return `${c.name}: ${c.ready ? 'ready' : 'not ready'}${
          state ? ` (${state.reason}: ${state.message ?? ''})` : ''
        }`;
      });
      const conditions = (pod.status?.conditions ?? [])
        .filter(c => c.status !== 'True' && c.message)
        .map(c => `${c.type}: ${c.message}`);
      return `  ${pod.metadata?.name} ${pod.status?.phase} ${[
        ...states,
        ...conditions,
      ].join('; ')}`;
    })
    .join('\n');
}
