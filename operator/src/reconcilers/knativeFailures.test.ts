import {
  KnativeFailures,
  KnativeStatusSimulator,
  RevisionFailure,
} from '@paved/test-cluster';
import { APPS, TENANTS } from '../kube/types';
import { Operator } from '../operator';
import {
  ClusterHandle,
  eventually,
  startCluster,
} from '../__testUtils__/cluster';
import {
  applyApp,
  applyTenant,
  startOperator,
  statusOf,
} from '../__testUtils__/operatorHarness';

jest.setTimeout(180_000);

// Against the shared harness's simulator, which writes Knative's own reasons
// and message formats: the App's message must turn each into advice.
describe('App status from what Knative reports', () => {
  let handle: ClusterHandle;
  let operator: Operator;
  let simulator: KnativeStatusSimulator;

  beforeAll(async () => {
    handle = await startCluster({ capsule: false, cilium: false });
    simulator = new KnativeStatusSimulator({
      kubeConfig: handle.cluster.kubeConfig,
    });
    await simulator.start();
    operator = await startOperator(handle.cluster);
    await operator.waitUntilLeading();
    await applyTenant(handle.client, 'kn', { plan: 'pro' });
    await eventually(
      async () =>
        statusOf(await handle.client.get(TENANTS, 'kn')).phase === 'Active',
      { what: 'tenant Active' },
    );
  });
  afterAll(async () => {
    await operator?.stop();
    await simulator?.stop();
    handle?.client.close();
    await handle?.cluster.stop();
  });

  const appStatus = (name: string, phase: string) =>
    eventually(
      async () => {
        const a = await handle.client.get(APPS, name, 'tenant-kn');
        return statusOf(a).phase === phase && statusOf(a);
      },
      { what: `${name} ${phase}` },
    );

  const cases: Array<[string, (image: string) => RevisionFailure, RegExp]> = [
    [
      'missing',
      image => KnativeFailures.imageNotFound(image),
      /^The image ghcr.io\/acme\/missing:1.0.0 could not be pulled/,
    ],
    [
      'private',
      image => KnativeFailures.imagePullUnauthorized(image),
      /^The image ghcr.io\/acme\/private:1.0.0 could not be pulled/,
    ],
    [
      'greedy',
      () =>
        KnativeFailures.exceededQuota({
          revision: 'greedy-00001',
          quota: 'paved-quota',
          requested: 'limits.cpu=250m',
          used: 'limits.cpu=16',
          limited: 'limits.cpu=16',
        }),
      /^The tenant's quota is used up/,
    ],
    [
      'crashy',
      () =>
        KnativeFailures.containerExited(
          1,
          'listen tcp :3000: bind: address already in use',
        ),
      /did not answer on port 8080/,
    ],
  ];

  it.each(cases)('explains %s', async (name, failure, expected) => {
    const image = `ghcr.io/acme/${name}:1.0.0`;
    simulator.fail('tenant-kn', name, failure(image));
    await applyApp(handle.client, 'kn', name, { image });
    const status = await appStatus(name, 'Failed');
    expect(status.message).toMatch(expected);
    expect(status.conditions.find((c: any) => c.type === 'Ready').status).toBe(
      'False',
    );
  });

  it('recovers once Knative serves a fixed revision, and reports mapped domains', async () => {
    simulator.fail(
      'tenant-kn',
      'fixme',
      KnativeFailures.imageNotFound('ghcr.io/acme/fixme:1.0.0'),
    );
    await applyApp(handle.client, 'kn', 'fixme', {
      image: 'ghcr.io/acme/fixme:1.0.0',
    });
    await appStatus('fixme', 'Failed');
    simulator.recover('tenant-kn', 'fixme');
    await applyApp(handle.client, 'kn', 'fixme', {
      image: 'ghcr.io/acme/fixme:1.0.1',
      domains: ['fixme.example.org'],
    });
    const status = await appStatus('fixme', 'Ready');
    expect(status.message).toBeUndefined();
    expect(status.url).toBe('http://fixme.tenant-kn.example.com');
    expect(status.latestReadyRevision).toBe('fixme-00002');
    expect(
      status.conditions.find((c: any) => c.type === 'DomainsReady'),
    ).toMatchObject({
      status: 'True',
      reason: 'Mapped',
    });
  });
});
