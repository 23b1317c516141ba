/**
 * Test helpers around @paved/test-cluster: one control plane per test file
 * (`operatorSuite.ts` registers it with an operator); polling instead of
 * sleeping is `eventually` from @paved/test-cluster.
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
