import { KNATIVE_SERVICES, KubeClient, NAMESPACES, PODS } from '@paved/kube';
import { eventually } from './eventually';
import { useTestCluster } from './jest';
import { requestThroughIngress } from './dataPlane/ingress';
import { EXAMPLE_APP_IMAGE } from './node/node';

jest.setTimeout(300_000);

const NAMESPACE = 'data-plane-test';

describe('a real data plane', () => {
  const cluster = useTestCluster({
    dataPlane: {
      // Short windows, so scale to zero happens within the test.
      autoscaler: {
        'stable-window': '6s',
        'scale-to-zero-grace-period': '6s',
        'scale-to-zero-pod-retention-period': '0s',
      },
    },
  });
  let client: KubeClient;
  const hello = () => cluster().dataPlane!.images['hello.tar'];

  it('has the example app under the name the packages use', () => {
    expect(hello()).toBe(EXAMPLE_APP_IMAGE);
  });

  const createService = (name: string, spec: object) =>
    client.create(KNATIVE_SERVICES, {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: { name, namespace: NAMESPACE },
      spec,
    });
  const readService = async (name: string) =>
    (await client.get(KNATIVE_SERVICES, name, NAMESPACE)) as {
      status?: {
        url?: string;
        conditions?: { type: string; status: string; message?: string }[];
      };
    };
  const podsOf = async (service: string) =>
    (
      await client.list<any>(PODS, {
        namespace: NAMESPACE,
        labelSelector: `serving.knative.dev/service=${service}`,
      })
    ).items.filter(p => !p.metadata?.deletionTimestamp);

  beforeAll(async () => {
    client = await KubeClient.fromKubeConfig(cluster().kubeConfig);
    await client.create(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NAMESPACE },
    });
  });

  afterAll(() => client?.close());

  it('serves a Knative Service from a real container at its URL, scales it to zero and wakes it', async () => {
    await createService('hello', {
      template: {
        metadata: {
          annotations: { 'autoscaling.knative.dev/min-scale': '0' },
        },
        spec: {
          containers: [
            {
              image: hello(),
              ports: [{ containerPort: 8080 }],
              env: [{ name: 'GREETING', value: 'data plane' }],
            },
          ],
        },
      },
    });
    const url = await eventually(
      'the Knative Service to be Ready',
      async () => {
        const service = await readService('hello');
        const ready = service.status?.conditions?.find(c => c.type === 'Ready');
        expect(ready).toMatchObject({ status: 'True' });
        return service.status!.url!;
      },
      180_000,
    );
    expect(url).toBe(
      `http://hello.${NAMESPACE}.${cluster().dataPlane!.domain}`,
    );

    const first = await requestThroughIngress(cluster().dataPlane!, url);
    expect(first.status).toBe(200);
    expect(first.body).toMatch(/^Hello, data plane!/);
    // Knative tells the container its revision; the app prints it.
    expect(first.body).toContain('hello-00001');
    expect((await podsOf('hello')).length).toBeGreaterThan(0);

    // Idle: the autoscaler takes it to zero pods.
    await eventually(
      'the idle service to scale to zero',
      async () => (await podsOf('hello')).length === 0,
      120_000,
    );
    // The next request goes through the activator, which wakes a pod.
    const woken = await requestThroughIngress(cluster().dataPlane!, url, {
      timeoutMs: 60_000,
    });
    expect(woken.status).toBe(200);
    expect(woken.body).toMatch(/^Hello, data plane!/);
  });

  it('reports the real reason when an image is not there', async () => {
    await createService('missing', {
      template: {
        spec: {
          containers: [{ image: 'registry.localhost/paved/missing:1.0.0' }],
        },
      },
    });
    const message = await eventually(
      'the image pull to fail',
      async () => {
        const pods = await podsOf('missing');
        const waiting = pods
          .flatMap((p: any) => p.status?.containerStatuses ?? [])
          .map((c: any) => c.state?.waiting)
          .find(
            w =>
              w?.reason === 'ErrImagePull' || w?.reason === 'ImagePullBackOff',
          );
        return waiting?.message;
      },
      120_000,
    );
    expect(message).toContain('registry.localhost/paved/missing:1.0.0');
    // The pull went to the closed loopback port, never to any DNS.
    expect(message).toContain('127.0.0.1:9');
    expect(message).not.toMatch(/lookup registry\.localhost/);
  });
});
