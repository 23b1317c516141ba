import fs from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as read from a manifest. */
export type KubeObject = k8s.KubernetesObject & Record<string, any>;

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

const isCrd = (o: KubeObject) => o.kind === 'CustomResourceDefinition';
const isNamespace = (o: KubeObject) => o.kind === 'Namespace';

/**
 * Server-side applies the objects, as `kubectl apply --server-side` would:
 * namespaces and CRDs first (waiting until each CRD is served), then the rest.
 * Retries a while on errors that a starting cluster gives (a webhook whose
 * pod is not up yet, a CRD that discovery does not show yet).
 */
export async function applyObjects(
  kubeConfig: k8s.KubeConfig,
  objects: KubeObject[],
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const applyOne = async (object: KubeObject) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await client.patch(
          object,
          undefined,
          undefined,
          FIELD_MANAGER,
          true,
          k8s.PatchStrategy.ServerSideApply,
        );
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          const body = (error as { body?: unknown }).body;
          throw new Error(
            `Cannot apply ${object.kind} ${object.metadata?.namespace ?? ''}/${
              object.metadata?.name
            }: ${(error as Error).message} ${body ? JSON.stringify(body) : ''}`,
          );
        }
        await new Promise(r => setTimeout(r, 500));
      }
    }
  };
  await Promise.all(objects.filter(isNamespace).map(applyOne));
  await Promise.all(objects.filter(isCrd).map(applyOne));
  await Promise.all(
    objects.filter(o => !isNamespace(o) && !isCrd(o)).map(applyOne),
  );
}

/** Waits until every Deployment in `namespace` has all replicas available. */
export async function waitForDeployments(
  kubeConfig: k8s.KubeConfig,
  namespace: string,
  timeoutMs: number,
  describe: () => Promise<string> = async () => '',
): Promise<void> {
  const apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await apps
      .listNamespacedDeployment({ namespace })
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

/** A one-line-per-pod summary of why pods in `namespace` are not ready. */
export async function describePods(
  kubeConfig: k8s.KubeConfig,
  namespace: string,
): Promise<string> {
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const pods = await core
    .listNamespacedPod({ namespace })
    .catch(() => undefined);
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
