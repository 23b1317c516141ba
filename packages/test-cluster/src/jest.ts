import { startTestCluster, TestCluster, TestClusterOptions } from './cluster';
import type { DataPlaneOptions } from './dataPlane/dataPlane';

/**
 * Generous: a cold start builds the binaries first (minutes, once), and a
 * cluster with a data plane may wait for other suites' nodes to stop.
 */
const START_TIMEOUT_MS = 40 * 60_000;
const STOP_TIMEOUT_MS = 120_000;

/**
 * Starts one test cluster for the current Jest test file (beforeAll) and
 * stops it afterwards (afterAll), with timeouts that fit. Returns a getter:
 *
 * ```ts
 * const cluster = useTestCluster();
 * it('...', async () => {
 *   const api = cluster().kubeConfig.makeApiClient(CoreV1Api);
 * });
 * ```
 */
export function useTestCluster(
  options: TestClusterOptions = {},
): () => TestCluster {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await startTestCluster(options);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await cluster?.stop();
  }, STOP_TIMEOUT_MS);
  return () => {
    if (!cluster) {
      throw new Error(
        'The test cluster is not running: call the getter from a test or a hook, not at import time',
      );
    }
    return cluster;
  };
}

/**
 * A data plane for suites that deploy real apps: idle apps scale to zero
 * within seconds (so suites do not crowd the one small node, and a
 * scale-to-zero case is short), and an image that cannot be pulled fails
 * its revision after 60 s instead of Knative's 600 s.
 */
export const QUICK_DATA_PLANE: DataPlaneOptions = {
  autoscaler: {
    'stable-window': '6s',
    'scale-to-zero-grace-period': '6s',
    'scale-to-zero-pod-retention-period': '0s',
  },
  progressDeadline: '60s',
};

/**
 * {@link useTestCluster} with a real node running `dataPlane`: the suite
 * waits its turn for the machine's one node (its beforeAll allows 40
 * minutes) and says so in the test output while it waits.
 */
export function useDataPlaneCluster(
  dataPlane: DataPlaneOptions = QUICK_DATA_PLANE,
  options: Omit<TestClusterOptions, 'dataPlane'> = {},
): () => TestCluster {
  return useTestCluster({
    timeoutMs: 180_000,
    ...options,
    dataPlane,
    log: line => {
      options.log?.(line);
      // eslint-disable-next-line no-console
      if (/waiting \d+ s for the real node/.test(line)) console.log(line);
    },
  });
}
