import { eventually } from '@paved/test-cluster';
import { Logger } from '@paved/kube';
import { ClusterHandle, startCluster } from './__testUtils__/cluster';
import { startOperator } from './__testUtils__/operatorHarness';
import { Operator } from './operator';

jest.setTimeout(120_000);

// A control plane without Knative's CRDs, and an operator told that Knative
// is there: its Knative informers list a resource the API server does not
// serve (404), so their caches never sync. The session must not hang on
// them: it fails after syncTimeoutMs naming them and why, and the operator
// starts a new session.
describe('the leader session when caches do not sync', () => {
  let handle: ClusterHandle;
  let operator: Operator | undefined;
  const errors: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: message => {
      errors.push(message);
    },
  };

  beforeAll(async () => {
    handle = await startCluster({ knative: false });
  }, 240_000);
  afterAll(async () => {
    await operator?.stop();
    handle?.client.close();
    await handle?.cluster.stop();
  });

  it('fails with the informers that did not sync and their last errors, then restarts', async () => {
    operator = await startOperator(handle.cluster, {
      features: { knative: true },
      syncTimeoutMs: 1500,
      logger,
    });
    const failures = await eventually(
      'two failed session starts',
      () => (operator!.sessionFailures >= 2 ? errors.slice() : undefined),
      30_000,
      { intervalMs: 50 },
    );
    const first = failures.find(e => e.startsWith('operator failed to start'));
    expect(first).toMatch(/informer caches did not sync within 2 s: /);
    // Each Knative type, with the API server's answer; nothing else.
    for (const name of [
      'services.serving.knative.dev',
      'revisions.serving.knative.dev',
      'domainmappings.serving.knative.dev',
    ]) {
      expect(first).toMatch(
        new RegExp(
          `${name.replace(/\./g, '\\.')} \\([^;]*(404|not found)`,
          'i',
        ),
      );
    }
    expect(first).not.toMatch(/tenants\.paved\.dev|namespaces \(/);
    expect(first).toMatch(/starting a new session in \d+ ms/);
    expect(operator.ready).toBe(false);
    expect(operator.context?.features.knative).toBe(true);
  });
});
