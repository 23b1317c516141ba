/**
 * The set-up the operator's cluster test files share: one test cluster for
 * the file (started in beforeAll, stopped in afterAll), optionally one
 * operator on it that leads before the first test, and operators a test
 * starts itself, stopped after that test.
 */
import { TestCluster, TestClusterOptions } from '@paved/test-cluster';
import { KubeClient } from '@paved/kube';
import { Operator, OperatorOptions } from '../operator';
import {
  ClusterHandle,
  DATA_PLANE_START_TIMEOUT_MS,
  startCluster,
} from './cluster';
import { startOperator } from './operatorHarness';

export interface OperatorSuite extends ClusterHandle {
  /** The file's operator, leading (only with the `operator` option). */
  readonly operator: Operator;
  /** Starts another operator on the cluster; it is stopped after the test. */
  startOperator(options?: Partial<OperatorOptions>): Promise<Operator>;
  /**
   * The operators `startOperator` started that the current test has not
   * stopped; one a test stops itself comes off this list.
   */
  readonly operators: Operator[];
}

export interface OperatorSuiteOptions {
  cluster?: TestClusterOptions;
  /**
   * Start one operator for the file, with these options (or the ones this
   * returns for the started cluster), and wait until it leads. Left out: no
   * operator of the file's own.
   */
  operator?:
    | Partial<OperatorOptions>
    | ((cluster: TestCluster) => Partial<OperatorOptions>);
}

/** Registers the hooks; the returned handle is usable inside tests and later hooks. */
export function useOperatorSuite(
  options: OperatorSuiteOptions = {},
): OperatorSuite {
  let handle: ClusterHandle | undefined;
  let operator: Operator | undefined;
  const operators: Operator[] = [];
  const started = () => {
    if (!handle) throw new Error('the test cluster has not started');
    return handle;
  };

  beforeAll(async () => {
    handle = await startCluster(options.cluster);
    if (options.operator) {
      const operatorOptions =
        typeof options.operator === 'function'
          ? options.operator(handle.cluster)
          : options.operator;
      operator = await startOperator(handle.cluster, operatorOptions);
      await operator.waitUntilLeading();
    }
  }, DATA_PLANE_START_TIMEOUT_MS);
  afterEach(async () => {
    await Promise.all(operators.splice(0).map(o => o.stop()));
  });
  afterAll(async () => {
    await operator?.stop();
    handle?.client.close();
    await handle?.cluster.stop();
  }, 120_000);

  return {
    get cluster(): TestCluster {
      return started().cluster;
    },
    get client(): KubeClient {
      return started().client;
    },
    get operator(): Operator {
      if (!operator)
        throw new Error('this suite starts no operator of its own');
      return operator;
    },
    operators,
    async startOperator(operatorOptions = {}) {
      const o = await startOperator(started().cluster, operatorOptions);
      operators.push(o);
      return o;
    },
  };
}
