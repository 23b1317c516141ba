/**
 * Test helpers around @paved/test-cluster: one control plane per test file,
 * and polling instead of sleeping.
 */
import {
  startTestCluster,
  TestCluster,
  TestClusterOptions,
} from '@paved/test-cluster';

export { withServer } from '@paved/test-cluster';
import { KubeClient } from '@paved/kube';

export interface ClusterHandle {
  cluster: TestCluster;
  client: KubeClient;
}

export async function startCluster(
  options: TestClusterOptions = {},
): Promise<ClusterHandle> {
  // Generous: CI runs several clusters at once on two cores.
  const cluster = await startTestCluster({ timeoutMs: 180_000, ...options });
  const client = await KubeClient.fromKubeConfig(cluster.kubeConfig);
  return { cluster, client };
}

/** Polls `check` until it returns a value other than undefined/false. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${options.what ?? 'a condition'}${
          lastError ? `: ${(lastError as Error).message}` : ''
        }`,
      );
    }
    await new Promise(r => setTimeout(r, options.intervalMs ?? 50));
  }
}

/**
 * Data-plane options for operator tests: Knative scales idle revisions to
 * zero within seconds, so a file's apps do not crowd the one node.
 */
export const QUICK_SCALE_TO_ZERO = {
  autoscaler: {
    'stable-window': '6s',
    'scale-to-zero-grace-period': '6s',
    'scale-to-zero-pod-retention-period': '0s',
  },
  // Knative fails a revision whose image cannot be pulled only after this.
  progressDeadline: '30s',
};

/** How long a beforeAll may wait for a data plane: other suites' go first. */
export const DATA_PLANE_START_TIMEOUT_MS = 40 * 60_000;
