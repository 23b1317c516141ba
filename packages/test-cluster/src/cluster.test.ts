import * as k8s from '@kubernetes/client-node';
import {
  APP_PLURAL,
  FIELD_MANAGER_BACKEND,
  PAVED_API_VERSION,
  PAVED_GROUP,
  PAVED_VERSION,
  TENANT_PLURAL,
} from '@paved/plugin-paved-common';
import { APPS, KubeApiError, KubeClient, NAMESPACES } from '@paved/kube';
import { useTestCluster } from './jest';

const cluster = useTestCluster();

const tenantBody = (name: string) => ({
  apiVersion: PAVED_API_VERSION,
  kind: 'Tenant',
  metadata: { name },
  spec: { displayName: 'Team A', owner: 'group:default/team-a', plan: 'free' },
});

const appBody = (name: string, image = 'ghcr.io/acme/hello:1.0.0') => ({
  apiVersion: PAVED_API_VERSION,
  kind: 'App',
  metadata: { name },
  spec: { image, port: 8080 },
});

async function createNamespace(name: string) {
  const core = cluster().kubeConfig.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name } } });
}

async function namespaceExists(name: string): Promise<boolean> {
  const core = cluster().kubeConfig.makeApiClient(k8s.CoreV1Api);
  try {
    await core.readNamespace({ name });
    return true;
  } catch (error) {
    if ((error as k8s.ApiException<string>).code === 404) return false;
    throw error;
  }
}

/** The error a call fails with; fails the test when the call succeeds. */
async function rejection(
  promise: Promise<unknown>,
): Promise<k8s.ApiException<string>> {
  try {
    await promise;
  } catch (error) {
    return error as k8s.ApiException<string>;
  }
  throw new Error('expected the API server to reject the request');
}

describe('test cluster', () => {
  it('serves the admin kubeconfig file and the loaded KubeConfig', async () => {
    const fromFile = new k8s.KubeConfig();
    fromFile.loadFromFile(cluster().kubeconfigPath);
    expect(fromFile.getCurrentCluster()?.server).toBe(cluster().server);
    const version = await fromFile.makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.\d+\.\d+/);
  });

  it('creates, reads and watches Paved Tenants', async () => {
    const custom = cluster().kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const seen: string[] = [];
    const watching = new Promise<void>((resolve, reject) => {
      new k8s.Watch(cluster().kubeConfig)
        .watch(
          `/apis/${PAVED_GROUP}/${PAVED_VERSION}/${TENANT_PLURAL}`,
          {},
          (phase, obj) => {
            seen.push(`${phase} ${obj.metadata.name}`);
            if (phase === 'ADDED' && obj.metadata.name === 'watched') {
              resolve();
            }
          },
          err => err && reject(err),
        )
        .then(controller => watching.finally(() => controller.abort()))
        .catch(reject);
    });

    await custom.createClusterCustomObject({
      group: PAVED_GROUP,
      version: PAVED_VERSION,
      plural: TENANT_PLURAL,
      body: tenantBody('watched'),
    });
    await watching;
    expect(seen).toContain('ADDED watched');

    const read = await custom.getClusterCustomObject({
      group: PAVED_GROUP,
      version: PAVED_VERSION,
      plural: TENANT_PLURAL,
      name: 'watched',
    });
    // With the CRD's defaults, filled in by the API server: the CRDs are
    // installed as written.
    expect(read.spec).toEqual({
      ...tenantBody('watched').spec,
      networkIsolation: true,
    });
    expect(read.metadata.generation).toBe(1);
  });

  it('creates Apps and rejects one that violates the generated schema', async () => {
    await createNamespace('tenant-schema');
    const custom = cluster().kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const created = await custom.createNamespacedCustomObject({
      group: PAVED_GROUP,
      version: PAVED_VERSION,
      namespace: 'tenant-schema',
      plural: APP_PLURAL,
      body: appBody('hello'),
    });
    expect(created.spec).toMatchObject({
      image: 'ghcr.io/acme/hello:1.0.0',
      port: 8080,
    });

    const error = await rejection(
      custom.createNamespacedCustomObject({
        group: PAVED_GROUP,
        version: PAVED_VERSION,
        namespace: 'tenant-schema',
        plural: APP_PLURAL,
        // No tag: the image pattern requires one.
        body: appBody('untagged', 'nginx'),
      }),
    );
    expect(error.code).toBe(422);
    expect(String(error.body)).toContain('spec.image');
  });

  it('installs the CRDs as written: their defaults are filled in and their CEL rules hold', async () => {
    // Through @paved/kube, as the harness itself talks to the API server.
    const client = await KubeClient.fromKubeConfig(cluster().kubeConfig);
    try {
      await client.create(NAMESPACES, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'tenant-as-written' },
      });
      const created = await client.create<any>(APPS, {
        ...appBody('defaults'),
        metadata: { name: 'defaults', namespace: 'tenant-as-written' },
      });
      expect(created.spec.scaling).toMatchObject({
        minInstances: 0,
        maxInstances: 10,
      });
      expect(created.spec.env).toEqual([]);

      const error = await client
        .create(APPS, {
          ...appBody('inverted'),
          metadata: { name: 'inverted', namespace: 'tenant-as-written' },
          spec: {
            image: 'ghcr.io/acme/hello:1.0.0',
            scaling: { minInstances: 5, maxInstances: 2 },
          },
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(KubeApiError);
      expect((error as KubeApiError).code).toBe(422);
      expect((error as KubeApiError).message).toContain(
        'minInstances must not be greater than maxInstances',
      );
    } finally {
      client.close();
    }
  });

  it('validates CiliumNetworkPolicies against the upstream schema', async () => {
    await createNamespace('tenant-cilium');
    const custom = cluster().kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const policy = (egress: unknown[]) => ({
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { name: 'isolation' },
      spec: { endpointSelector: {}, egress },
    });
    await custom.createNamespacedCustomObject({
      group: 'cilium.io',
      version: 'v2',
      namespace: 'tenant-cilium',
      plural: 'ciliumnetworkpolicies',
      body: policy([
        { toCIDRSet: [{ cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] }] },
      ]),
    });
    const error = await rejection(
      custom.createNamespacedCustomObject({
        group: 'cilium.io',
        version: 'v2',
        namespace: 'tenant-cilium',
        plural: 'ciliumnetworkpolicies',
        body: {
          ...policy([{ toCIDRSet: [{ cidr: 'not-a-cidr' }] }]),
          metadata: { name: 'broken' },
        },
      }),
    );
    expect(error.code).toBe(422);
    expect(String(error.body)).toContain('toCIDRSet');
  });

  it('deletes a namespace with its contents (the controller manager runs)', async () => {
    const core = cluster().kubeConfig.makeApiClient(k8s.CoreV1Api);
    await createNamespace('tenant-doomed');
    await core.createNamespacedConfigMap({
      namespace: 'tenant-doomed',
      body: { metadata: { name: 'settings' }, data: { a: 'b' } },
    });
    await core.deleteNamespace({ name: 'tenant-doomed' });
    const deadline = Date.now() + 60_000;
    while (await namespaceExists('tenant-doomed')) {
      if (Date.now() > deadline) {
        throw new Error('namespace still there after 60 s');
      }
      await new Promise(r => setTimeout(r, 200));
    }
    expect(await namespaceExists('tenant-doomed')).toBe(false);
  }, 70_000);

  it('applies server-side with a field manager and reports conflicts', async () => {
    await createNamespace('tenant-ssa');
    const custom = cluster().kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const apply = (image: string, fieldManager: string) =>
      custom.patchNamespacedCustomObject(
        {
          group: PAVED_GROUP,
          version: PAVED_VERSION,
          namespace: 'tenant-ssa',
          plural: APP_PLURAL,
          name: 'web',
          body: appBody('web', image),
          fieldManager,
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      );
    const first = await apply('ghcr.io/acme/web:1', FIELD_MANAGER_BACKEND);
    expect(first.metadata.managedFields.map((f: any) => f.manager)).toContain(
      FIELD_MANAGER_BACKEND,
    );
    const second = await apply('ghcr.io/acme/web:2', FIELD_MANAGER_BACKEND);
    expect(second.spec.image).toBe('ghcr.io/acme/web:2');
    expect(second.metadata.generation).toBe(2);

    const conflict = await rejection(
      apply('ghcr.io/acme/web:3', 'someone-else'),
    );
    expect(conflict.code).toBe(409);
  });

  it('issues user identities that RBAC governs', async () => {
    // The aggregated ClusterRole `view` gets its rules from the controller
    // manager's clusterrole-aggregation-controller.
    const user = await cluster().userKubeConfig('alice', ['team-a']);
    const core = user.makeApiClient(k8s.CoreV1Api);
    const error = await rejection(core.listNamespace());
    expect(error.code).toBe(403);
    expect(JSON.parse(error.body).message).toContain('User "alice"');

    const rbac = cluster().kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'team-a-view' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'view',
        },
        subjects: [
          {
            kind: 'Group',
            name: 'team-a',
            apiGroup: 'rbac.authorization.k8s.io',
          },
        ],
      },
    });
    // RBAC reads bindings through an informer: allow it a moment.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await core.listNamespacedConfigMap({ namespace: 'default' });
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise(r => setTimeout(r, 100));
      }
    }
  }, 20_000);
});
