/**
 * The Helm chart's rendering (operator/chart), installed on a real cluster
 * with a real node and real Knative, and the operator running as the
 * rendered Deployment's pods: an operator image is made without Docker
 * (__testUtils__/operatorImage.ts: the esbuild bundle, this Node.js and the
 * libraries it loads) and imported into the node's containerd. The pods use
 * the in-cluster service account, so they have exactly the rendered RBAC.
 *
 * The CRDs and manifests pass a server dry run and are applied; both
 * replicas become Ready, one leads through the Lease; its args and metrics
 * port are the rendered ones; it takes a tenant and an app to Ready; when
 * the leader's pod is deleted another replica takes over and deletes them.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  eventually,
  ensureControlPlaneBinaries,
  ensureHelm,
} from '@paved/test-cluster';
import { APPS, CRDS, KubeClient, LEASES, TENANTS } from '@paved/kube';
import {
  ClusterHandle,
  DATA_PLANE_START_TIMEOUT_MS,
  QUICK_SCALE_TO_ZERO,
  startCluster,
} from './__testUtils__/cluster';
import {
  applyApp,
  applyTenant,
  statusOf,
} from './__testUtils__/operatorHarness';
import {
  Manifest,
  Rendering,
  renderChart,
  writeManifests,
} from './__testUtils__/chart';
import { buildOperatorImage } from './__testUtils__/operatorImage';

const run = promisify(execFile);
jest.setTimeout(240_000);

const NAMESPACE = 'paved-system';
const IMAGE_REPOSITORY = 'registry.localhost/paved/operator';
const IMAGE_TAG = 'chart-test';
const METRICS_PORT = 9090;

/** `<resource>[.<group>]/<name>`, as kubectl names what it applied. */
const kubectlName = (o: Manifest) => {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return `${o.kind.toLowerCase()}${group ? `.${group}` : ''}/${
    o.metadata.name
  }`;
};

describe('the Helm chart, installed', () => {
  let handle: ClusterHandle;
  let kubectl: string;
  let rendering: Rendering;
  let manifests: string;

  beforeAll(() => ensureHelm(), 15 * 60_000);
  beforeAll(async () => {
    // The CRDs come from the chart, not from the harness.
    handle = await startCluster({
      dataPlane: QUICK_SCALE_TO_ZERO,
      paved: false,
    });
    kubectl = (await ensureControlPlaneBinaries()).kubectl;
    const image = await buildOperatorImage(
      path.join(handle.cluster.dir, 'operator-image'),
      `${IMAGE_REPOSITORY}:${IMAGE_TAG}`,
    );
    await handle.cluster.dataPlane!.importImages([image]);
    rendering = await renderChart({
      namespace: NAMESPACE,
      includeCrds: true,
      values: {
        image: {
          repository: IMAGE_REPOSITORY,
          tag: IMAGE_TAG,
          // Imported, not in a registry.
          pullPolicy: 'Never',
        },
        // Shorter than the defaults (15s/10s/2s), as a test wants.
        leaderElection: {
          leaseDuration: '6s',
          renewDeadline: '4s',
          retryPeriod: '1s',
        },
        metrics: { port: METRICS_PORT },
        extraArgs: ['--concurrency=3'],
        // The one node holds both replicas, Knative and the apps.
        resources: { requests: { cpu: '20m', memory: '64Mi' } },
      },
    });
    manifests = writeManifests(rendering.yaml);
  }, DATA_PLANE_START_TIMEOUT_MS);
  afterAll(async () => {
    handle?.client.close();
    await handle?.cluster.stop();
  }, 120_000);

  const k = async (...args: string[]) =>
    (
      await run(
        kubectl,
        ['--kubeconfig', handle.cluster.kubeconfigPath, ...args],
        { maxBuffer: 16 << 20 },
      )
    ).stdout;
  const operatorPods = async () =>
    JSON.parse(
      await k(
        'get',
        'pods',
        '-n',
        NAMESPACE,
        '-l',
        'app.kubernetes.io/name=paved-operator',
        '-o',
        'json',
      ),
    ).items as any[];
  const leaseHolder = async () =>
    ((await handle.client.tryGet(LEASES, 'paved-operator', NAMESPACE)) as any)
      ?.spec?.holderIdentity as string | undefined;
  /** What the operator logged, for a failure's message. */
  const logs = () =>
    k(
      'logs',
      '-n',
      NAMESPACE,
      '-l',
      'app.kubernetes.io/name=paved-operator',
      '--tail=20',
      '--prefix',
    ).catch(error => `(no logs: ${error.message})`);

  it('passes a server dry run (kubectl apply --dry-run=server)', async () => {
    // What `helm install --create-namespace` does first.
    await k('create', 'namespace', NAMESPACE);
    const out = await k('apply', '--dry-run=server', '-f', manifests);
    expect(rendering.all('CustomResourceDefinition')).toHaveLength(2);
    expect(rendering.objects).toHaveLength(9);
    for (const object of rendering.objects) {
      expect(out).toContain(`${kubectlName(object)} created (server dry run)`);
    }
    // A dry run it was.
    expect(
      await handle.client.tryGet(CRDS, 'tenants.paved.dev'),
    ).toBeUndefined();
  });

  it('is applied; both replicas run on the node as the service account, one leads', async () => {
    const out = await k('apply', '-f', manifests);
    for (const object of rendering.objects) {
      expect(out).toContain(`${kubectlName(object)} created`);
    }
    await k(
      'rollout',
      'status',
      '-n',
      NAMESPACE,
      'deployment/paved-operator',
      '--timeout=180s',
    ).catch(async error => {
      throw new Error(`${error.message}\n${await logs()}`);
    });
    const pods = await operatorPods();
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.spec.serviceAccountName).toBe('paved-operator');
      expect(pod.spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
      });
      expect(pod.status.containerStatuses[0]).toMatchObject({
        ready: true,
        restartCount: 0,
        image: `${IMAGE_REPOSITORY}:${IMAGE_TAG}`,
      });
    }
    const names = pods.map(p => p.metadata.name);
    await eventually('a replica holds the Lease', async () =>
      names.includes((await leaseHolder()) ?? ''),
    );
    const lease = (await handle.client.get(
      LEASES,
      'paved-operator',
      NAMESPACE,
    )) as any;
    // The rendered timings reached the operator.
    expect(lease.spec.leaseDurationSeconds).toBe(6);
  });

  it('serves metrics on the rendered port, through the Service, with the rendered args', async () => {
    // Through the API server's proxy: the Service's port reaches a pod's.
    const viaService = await k(
      'get',
      '--raw',
      `/api/v1/namespaces/${NAMESPACE}/services/paved-operator-metrics:metrics/proxy/metrics`,
    );
    expect(viaService).toMatch(
      /^leader_election_master_status\{name="paved-operator"\} [01]$/m,
    );
    const leader = await leaseHolder();
    const fromLeader = await k(
      'get',
      '--raw',
      `/api/v1/namespaces/${NAMESPACE}/pods/${leader}:${METRICS_PORT}/proxy/metrics`,
    );
    expect(fromLeader).toMatch(
      /^leader_election_master_status\{name="paved-operator"\} 1$/m,
    );
    // extraArgs: --concurrency=3.
    expect(fromLeader).toMatch(
      /^controller_runtime_max_concurrent_reconciles\{controller="tenant"\} 3$/m,
    );
  });

  it('has only the rendered rights: no Secrets', async () => {
    // A client certificate for the service account's user name and groups.
    const asServiceAccount = await KubeClient.fromKubeConfig(
      await handle.cluster.userKubeConfig(
        `system:serviceaccount:${NAMESPACE}:paved-operator`,
        [
          'system:serviceaccounts',
          `system:serviceaccounts:${NAMESPACE}`,
          'system:authenticated',
        ],
      ),
    );
    try {
      await expect(asServiceAccount.list(TENANTS)).resolves.toBeDefined();
      await expect(
        asServiceAccount.list({
          group: '',
          version: 'v1',
          plural: 'secrets',
          kind: 'Secret',
          namespaced: true,
        }),
      ).rejects.toMatchObject({ code: 403 });
    } finally {
      asServiceAccount.close();
    }
  });

  it('provisions a tenant and an app to Ready from its pods, and fails over to another replica', async () => {
    await applyTenant(handle.client, 'least');
    await eventually(
      'tenant Active',
      async () =>
        statusOf(await handle.client.get(TENANTS, 'least')).phase === 'Active',
    ).catch(async error => {
      throw new Error(`${error.message}\n${await logs()}`);
    });
    await applyApp(handle.client, 'least', 'web', {
      domains: ['least.example.org'],
    });
    await eventually(
      'app Ready',
      async () =>
        statusOf(await handle.client.get(APPS, 'web', 'tenant-least')).phase ===
        'Ready',
      180_000,
    ).catch(async error => {
      throw new Error(`${error.message}\n${await logs()}`);
    });

    // Deleting the leader's pod: SIGTERM, it releases the Lease, and
    // another replica takes it (the standby, or the ReplicaSet's new pod if
    // that one asks first).
    const leader = (await leaseHolder())!;
    expect(leader).toMatch(/^paved-operator-/);
    await k('delete', 'pod', '-n', NAMESPACE, leader, '--wait=false');
    let holder: string | undefined;
    await eventually(
      'another replica leads',
      async () => {
        holder = await leaseHolder();
        const running = (await operatorPods())
          .filter(p => !p.metadata.deletionTimestamp)
          .map(p => p.metadata.name);
        return holder !== leader && running.includes(holder ?? '');
      },
      60_000,
    ).catch(async error => {
      throw new Error(
        `${
          error.message
        } (Lease held by ${holder}, was ${leader})\n${await logs()}`,
      );
    });

    await handle.client.delete(TENANTS, 'least');
    await eventually(
      'tenant deleted by the new leader',
      async () => (await handle.client.tryGet(TENANTS, 'least')) === undefined,
      180_000,
    ).catch(async error => {
      throw new Error(`${error.message}\n${await logs()}`);
    });
  });
});
