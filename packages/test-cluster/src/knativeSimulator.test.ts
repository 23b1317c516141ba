import * as k8s from '@kubernetes/client-node';
import { useTestCluster } from './jest';
import { KnativeFailures, KnativeStatusSimulator } from './knativeSimulator';

const cluster = useTestCluster({ capsule: false, cilium: false });
let simulator: KnativeStatusSimulator;
const NS = 'tenant-sim';

beforeAll(async () => {
  simulator = new KnativeStatusSimulator({
    kubeConfig: cluster().kubeConfig,
    domain: '127.0.0.1.sslip.io',
  });
  await simulator.start();
  await cluster()
    .kubeConfig.makeApiClient(k8s.CoreV1Api)
    .createNamespace({ body: { metadata: { name: NS } } });
});

afterAll(async () => {
  await simulator?.stop();
});

const SERVICE = {
  group: 'serving.knative.dev',
  version: 'v1',
  namespace: NS,
  plural: 'services',
};

function custom() {
  return cluster().kubeConfig.makeApiClient(k8s.CustomObjectsApi);
}

function knativeService(name: string, image: string, minScale?: number) {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: {
      template: {
        metadata: {
          annotations: minScale
            ? { 'autoscaling.knative.dev/min-scale': String(minScale) }
            : {},
        },
        spec: { containers: [{ image, ports: [{ containerPort: 8080 }] }] },
      },
    },
  };
}

async function applyService(body: object) {
  return custom().patchNamespacedCustomObject(
    {
      ...SERVICE,
      name: (body as { metadata: { name: string } }).metadata.name,
      body,
      fieldManager: 'paved-operator',
      force: true,
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
  );
}

/** Polls the Service until `check` holds for it. */
async function waitForService(
  name: string,
  check: (service: any) => boolean,
): Promise<any> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const service = await custom().getNamespacedCustomObject({
      ...SERVICE,
      name,
    });
    if (check(service)) return service;
    if (Date.now() > deadline) {
      throw new Error(
        `Service ${name} did not reach the expected status: ${JSON.stringify(
          service.status,
        )}`,
      );
    }
    await new Promise(r => setTimeout(r, 50));
  }
}

const condition = (service: any, type: string) =>
  service.status?.conditions?.find((c: any) => c.type === type);

const observed = (service: any) =>
  service.status?.observedGeneration === service.metadata.generation;

describe('KnativeStatusSimulator', () => {
  it('makes a Service Ready with a URL, revision, traffic and address', async () => {
    await applyService(knativeService('hello', 'ghcr.io/acme/hello:1', 1));
    const service = await waitForService(
      'hello',
      s => observed(s) && condition(s, 'Ready')?.status === 'True',
    );
    expect(service.status).toMatchObject({
      url: `http://hello.${NS}.127.0.0.1.sslip.io`,
      address: { url: `http://hello.${NS}.svc.cluster.local` },
      latestCreatedRevisionName: 'hello-00001',
      latestReadyRevisionName: 'hello-00001',
      traffic: [
        { revisionName: 'hello-00001', latestRevision: true, percent: 100 },
      ],
    });
    expect(condition(service, 'ConfigurationsReady').status).toBe('True');
    expect(condition(service, 'RoutesReady').status).toBe('True');

    const revision = await custom().getNamespacedCustomObject({
      ...SERVICE,
      plural: 'revisions',
      name: 'hello-00001',
    });
    expect(revision.metadata.labels['serving.knative.dev/service']).toBe(
      'hello',
    );
    expect(revision.metadata.ownerReferences[0].uid).toBe(service.metadata.uid);
    expect(revision.status.actualReplicas).toBe(1);
  });

  it('lets the garbage collector delete Revisions with their Service', async () => {
    await applyService(knativeService('doomed', 'ghcr.io/acme/doomed:1'));
    await waitForService(
      'doomed',
      s => condition(s, 'Ready')?.status === 'True',
    );
    await custom().deleteNamespacedCustomObject({ ...SERVICE, name: 'doomed' });
    const deadline = Date.now() + 20_000;
    let left: unknown[];
    do {
      await new Promise(r => setTimeout(r, 100));
      const list = await custom().listNamespacedCustomObject({
        ...SERVICE,
        plural: 'revisions',
        labelSelector: 'serving.knative.dev/service=doomed',
      });
      left = list.items;
    } while (left.length && Date.now() < deadline);
    expect(left).toEqual([]);
  }, 30_000);

  it('creates a new revision only when spec.template changes', async () => {
    await applyService(knativeService('stable', 'ghcr.io/acme/stable:1'));
    await waitForService(
      'stable',
      s => condition(s, 'Ready')?.status === 'True',
    );

    // The same spec again: no new generation, no new revision.
    await applyService(knativeService('stable', 'ghcr.io/acme/stable:1'));
    // A label outside the template: no new generation either.
    await custom().patchNamespacedCustomObject(
      {
        ...SERVICE,
        name: 'stable',
        body: { metadata: { labels: { team: 'a' } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await simulator.idle();
    let service = await waitForService('stable', observed);
    expect(service.status.latestCreatedRevisionName).toBe('stable-00001');

    await applyService(knativeService('stable', 'ghcr.io/acme/stable:2'));
    service = await waitForService(
      'stable',
      s => observed(s) && s.status.latestReadyRevisionName === 'stable-00002',
    );
    expect(service.metadata.generation).toBe(2);
    expect(service.status.latestCreatedRevisionName).toBe('stable-00002');
  });

  it('reports a failed first revision as Knative does', async () => {
    const image = 'ghcr.io/acme/missing:1';
    simulator.fail(NS, 'broken', KnativeFailures.imageNotFound(image));
    await applyService(knativeService('broken', image));
    const service = await waitForService(
      'broken',
      s => observed(s) && condition(s, 'Ready')?.status === 'False',
    );
    expect(condition(service, 'ConfigurationsReady')).toMatchObject({
      status: 'False',
      reason: 'RevisionFailed',
      message: `Revision "broken-00001" failed with message: Unable to fetch image "${image}": failed to resolve image to digest: MANIFEST_UNKNOWN: manifest unknown.`,
    });
    expect(condition(service, 'RoutesReady')).toMatchObject({
      status: 'False',
      reason: 'RevisionMissing',
      message: 'Configuration "broken" does not have any ready Revision.',
    });
    expect(condition(service, 'Ready').reason).toBe('RevisionMissing');
    expect(service.status.latestCreatedRevisionName).toBe('broken-00001');
    expect(service.status.latestReadyRevisionName).toBeUndefined();

    simulator.recover(NS, 'broken');
    await applyService(knativeService('broken', 'ghcr.io/acme/missing:2'));
    const fixed = await waitForService(
      'broken',
      s => observed(s) && condition(s, 'Ready')?.status === 'True',
    );
    expect(fixed.status.latestReadyRevisionName).toBe('broken-00002');
  });

  it('keeps traffic on the last ready revision when a new one fails', async () => {
    await applyService(knativeService('quota', 'ghcr.io/acme/quota:1'));
    await waitForService(
      'quota',
      s => condition(s, 'Ready')?.status === 'True',
    );
    const failure = KnativeFailures.exceededQuota({
      revision: 'quota-00002',
      quota: 'paved-quota',
      requested: 'limits.memory=512Mi',
      used: 'limits.memory=1Gi',
      limited: 'limits.memory=1Gi',
    });
    simulator.fail(NS, 'quota', failure);
    await applyService(knativeService('quota', 'ghcr.io/acme/quota:2'));
    const service = await waitForService(
      'quota',
      s => observed(s) && condition(s, 'Ready')?.status === 'False',
    );
    expect(condition(service, 'Ready')).toMatchObject({
      reason: 'RevisionFailed',
      message: `Revision "quota-00002" failed with message: ${failure.message}.`,
    });
    expect(condition(service, 'RoutesReady').status).toBe('True');
    expect(service.status.latestCreatedRevisionName).toBe('quota-00002');
    expect(service.status.traffic).toEqual([
      { revisionName: 'quota-00001', latestRevision: true, percent: 100 },
    ]);
  });

  it('makes DomainMappings Ready with their URL', async () => {
    await applyService(knativeService('mapped', 'ghcr.io/acme/mapped:1'));
    await custom().createNamespacedCustomObject({
      group: 'serving.knative.dev',
      version: 'v1beta1',
      namespace: NS,
      plural: 'domainmappings',
      body: {
        apiVersion: 'serving.knative.dev/v1beta1',
        kind: 'DomainMapping',
        metadata: { name: 'www.acme.dev' },
        spec: {
          ref: {
            apiVersion: 'serving.knative.dev/v1',
            kind: 'Service',
            name: 'mapped',
          },
        },
      },
    });
    const deadline = Date.now() + 15_000;
    let mapping: any;
    do {
      await new Promise(r => setTimeout(r, 50));
      mapping = await custom().getNamespacedCustomObject({
        group: 'serving.knative.dev',
        version: 'v1beta1',
        namespace: NS,
        plural: 'domainmappings',
        name: 'www.acme.dev',
      });
    } while (
      condition(mapping, 'Ready')?.status !== 'True' &&
      Date.now() < deadline
    );
    expect(condition(mapping, 'Ready')?.status).toBe('True');
    expect(mapping.status.url).toBe('http://www.acme.dev');
  });

  it('keeps working across an API server restart and a simulator restart', async () => {
    await cluster().restartApiServer();
    await applyService(knativeService('after-restart', 'ghcr.io/acme/r:1'));
    await waitForService(
      'after-restart',
      s => condition(s, 'Ready')?.status === 'True',
    );

    // A new simulator instance derives revisions from the cluster: the
    // unchanged template gets no new revision.
    await simulator.stop();
    simulator = new KnativeStatusSimulator({
      kubeConfig: cluster().kubeConfig,
    });
    await simulator.start();
    const service = await waitForService('after-restart', observed);
    expect(service.status.latestCreatedRevisionName).toBe(
      'after-restart-00001',
    );
  }, 60_000);

  it('shows a revision Deploying before it is Ready, and fails images by rule', async () => {
    await simulator.stop();
    simulator = new KnativeStatusSimulator({
      kubeConfig: cluster().kubeConfig,
      deployDelayMs: 1500,
      failImage: image =>
        image.includes('/nope:')
          ? KnativeFailures.imageNotFound(image)
          : undefined,
    });
    await simulator.start();

    await applyService(knativeService('slow', 'ghcr.io/acme/slow:1'));
    const deploying = await waitForService(
      'slow',
      s => observed(s) && condition(s, 'Ready') !== undefined,
    );
    expect(condition(deploying, 'Ready')).toMatchObject({
      status: 'Unknown',
      reason: 'RevisionMissing',
      message:
        'Configuration "slow" is waiting for a Revision to become ready.',
    });
    expect(condition(deploying, 'ConfigurationsReady').status).toBe('Unknown');
    const ready = await waitForService(
      'slow',
      s => condition(s, 'Ready')?.status === 'True',
    );
    expect(ready.status.latestReadyRevisionName).toBe('slow-00001');

    await applyService(knativeService('nope', 'ghcr.io/acme/nope:1'));
    const failed = await waitForService(
      'nope',
      s => condition(s, 'Ready')?.status === 'False',
    );
    expect(condition(failed, 'ConfigurationsReady').message).toContain(
      'Unable to fetch image "ghcr.io/acme/nope:1"',
    );
  });
});
