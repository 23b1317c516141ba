import { startTestCluster, TestCluster, TestClusterOptions } from './cluster';

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
