import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureControlPlaneBinaries, eventually } from '@paved/test-cluster';
import { APPS, TENANTS, KubeClient } from '@paved/kube';
import {
  ClusterHandle,
  DATA_PLANE_START_TIMEOUT_MS,
  QUICK_SCALE_TO_ZERO,
  startCluster,
} from './__testUtils__/cluster';
import {
  applyApp,
  applyTenant,
  startOperator,
  statusOf,
} from './__testUtils__/operatorHarness';

const run = promisify(execFile);
jest.setTimeout(180_000);

const deployDir = path.resolve(__dirname, '..', 'deploy');
const crdDir = path.resolve(
  __dirname,
  '..',
  '..',
  'plugins',
  'paved-common',
  'crds',
);

describe('deploy manifests', () => {
  let handle: ClusterHandle;
  let kubectl: string;

  // A real data plane: the app must become Ready under real Knative with
  // nothing but the rights rbac.yaml grants.
  beforeAll(async () => {
    handle = await startCluster({ dataPlane: QUICK_SCALE_TO_ZERO });
    kubectl = (await ensureControlPlaneBinaries()).kubectl;
  }, DATA_PLANE_START_TIMEOUT_MS);
  afterAll(async () => {
    handle?.client.close();
    await handle?.cluster.stop();
  }, 120_000);

  const k = (...args: string[]) =>
    run(kubectl, ['--kubeconfig', handle.cluster.kubeconfigPath, ...args]);

  it('are accepted by the API server (kubectl apply --dry-run=server)', async () => {
    // Namespaced objects need their namespace to exist, even in a dry run.
    await k('apply', '-f', path.join(deployDir, 'namespace.yaml'));
    const { stdout } = await k(
      'apply',
      '--dry-run=server',
      '-f',
      crdDir,
      '-f',
      deployDir,
    );
    expect(stdout).toMatch(
      /deployment.apps\/paved-operator (created|configured) \(server dry run\)/,
    );
    expect(stdout).toMatch(
      /clusterrole.rbac.authorization.k8s.io\/paved-operator (created|configured) \(server dry run\)/,
    );
    expect(stdout).toMatch(
      /customresourcedefinition.apiextensions.k8s.io\/tenants.paved.dev/,
    );
  });

  it('grant the operator all it needs: it provisions a tenant and an app as its service account', async () => {
    await k(
      'apply',
      '-f',
      path.join(deployDir, 'namespace.yaml'),
      '-f',
      path.join(deployDir, 'rbac.yaml'),
    );
    // A client certificate for the service account's user name and groups.
    const asServiceAccount = await handle.cluster.userKubeConfig(
      'system:serviceaccount:paved-system:paved-operator',
      [
        'system:serviceaccounts',
        'system:serviceaccounts:paved-system',
        'system:authenticated',
      ],
    );
    const probe = await KubeClient.fromKubeConfig(asServiceAccount);
    await expect(probe.list(TENANTS)).resolves.toBeDefined();
    // Least privilege: no access to Secrets.
    await expect(
      probe.list({
        group: '',
        version: 'v1',
        plural: 'secrets',
        kind: 'Secret',
        namespaced: true,
      }),
    ).rejects.toMatchObject({ code: 403 });
    probe.close();

    const operator = await startOperator(handle.cluster, {
      kubeConfig: asServiceAccount,
      leaderElection: {
        namespace: 'paved-system',
        name: 'paved-operator',
        retryPeriodMs: 200,
        renewDeadlineMs: 1000,
        leaseDurationMs: 2000,
      },
    });
    try {
      await operator.waitUntilLeading();
      await applyTenant(handle.client, 'least');
      await eventually(
        'tenant Active as the service account',
        async () =>
          statusOf(await handle.client.get(TENANTS, 'least')).phase ===
          'Active',
      );
      await applyApp(handle.client, 'least', 'web', {
        domains: ['least.example.org'],
      });
      await eventually(
        'app Ready as the service account',
        async () =>
          statusOf(await handle.client.get(APPS, 'web', 'tenant-least'))
            .phase === 'Ready',
        180_000,
      );
      await handle.client.delete(TENANTS, 'least');
      await eventually(
        'tenant deleted as the service account',
        async () =>
          (await handle.client.tryGet(TENANTS, 'least')) === undefined,
        180_000,
      );
    } finally {
      await operator.stop();
    }
  });
});
