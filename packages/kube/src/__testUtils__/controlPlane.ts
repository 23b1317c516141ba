/**
 * What the library's tests against a real kube-apiserver share: a control
 * plane without the optional APIs, and a real token for a service account.
 */
import { startTestCluster, TestCluster } from '@paved/test-cluster';
import { KubeClient } from '../client';

/** A control plane from @paved/test-cluster, with none of the optional APIs. */
export function startControlPlane(): Promise<TestCluster> {
  return startTestCluster({
    timeoutMs: 180_000,
    capsule: false,
    cilium: false,
    knative: false,
  });
}

/**
 * Creates service account `name` in `default` and returns a real token for
 * it (TokenRequest, an hour); with `listNamespaces`, it may also get, list
 * and watch namespaces.
 */
export async function serviceAccountToken(
  admin: KubeClient,
  name: string,
  options: { listNamespaces?: boolean } = {},
): Promise<string> {
  await admin.request('POST', '/api/v1/namespaces/default/serviceaccounts', {
    body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } },
  });
  if (options.listNamespaces) {
    const rbac = '/apis/rbac.authorization.k8s.io/v1';
    await admin.request('POST', `${rbac}/clusterroles`, {
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: `${name}-test` },
        rules: [
          {
            apiGroups: [''],
            resources: ['namespaces'],
            verbs: ['get', 'list', 'watch'],
          },
        ],
      },
    });
    await admin.request('POST', `${rbac}/clusterrolebindings`, {
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: `${name}-test` },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: `${name}-test`,
        },
        subjects: [{ kind: 'ServiceAccount', name, namespace: 'default' }],
      },
    });
  }
  const answer = await admin.request<{ status?: { token?: string } }>(
    'POST',
    `/api/v1/namespaces/default/serviceaccounts/${name}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      },
    },
  );
  if (!answer.status?.token) throw new Error('TokenRequest gave no token');
  return answer.status.token;
}
