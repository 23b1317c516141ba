import { startTestCluster, TestCluster, TestClusterOptions } from './cluster';
import {
  KnativeStatusSimulator,
  KnativeStatusSimulatorOptions,
} from './knativeSimulator';

/** Generous: a cold start builds the binaries first (minutes, once). */
const START_TIMEOUT_MS = 15 * 60_000;
const STOP_TIMEOUT_MS = 60_000;

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
 * Runs a {@link KnativeStatusSimulator} against the cluster of
 * {@link useTestCluster} for the current test file:
 *
 * ```ts
 * const cluster = useTestCluster();
 * const knative = useKnativeStatusSimulator(cluster);
 * // knative().fail(namespace, name, KnativeFailures.imageNotFound(image))
 * ```
 */
export function useKnativeStatusSimulator(
  cluster: () => TestCluster,
  options: Omit<KnativeStatusSimulatorOptions, 'kubeConfig'> = {},
): () => KnativeStatusSimulator {
  let simulator: KnativeStatusSimulator | undefined;
  beforeAll(async () => {
    simulator = new KnativeStatusSimulator({
      ...options,
      kubeConfig: cluster().kubeConfig,
    });
    await simulator.start();
  }, STOP_TIMEOUT_MS);
  afterAll(async () => {
    await simulator?.stop();
  }, STOP_TIMEOUT_MS);
  return () => {
    if (!simulator) {
      throw new Error(
        'The Knative status simulator is not running: call the getter from a test or a hook',
      );
    }
    return simulator;
  };
}
