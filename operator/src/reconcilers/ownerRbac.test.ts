/**
 * RBAC as the owner, tested as the owner: a user in a tenant's owner group
 * (a client certificate signed by the test cluster's CA) makes real requests
 * against the real API server, and the answers are compared with what the
 * owner role (src/desired/ownerRole.ts) promises. The operator runs as its
 * service account with nothing but the RBAC the Helm chart (operator/chart)
 * renders, so the same run checks that the operator may apply the role and
 * bind owners to it.
 *
 * No data plane: nothing here needs a node.
 */
import { execFile } from 'node:child_process';
import { isDeepStrictEqual, promisify } from 'node:util';
import { stringify } from 'yaml';
import {
  ensureControlPlaneBinaries,
  ensureHelm,
  eventually,
} from '@paved/test-cluster';
import {
  KubeApiError,
  KubeClient,
  APPS,
  CAPSULE_TENANTS,
  CILIUM_NETWORK_POLICIES,
  CLUSTER_DOMAIN_CLAIMS,
  CLUSTER_ROLES,
  CRDS,
  KNATIVE_SERVICES,
  DOMAIN_MAPPINGS,
  KubeObject,
  LIMIT_RANGES,
  NAMESPACES,
  NETWORK_POLICIES,
  RESOURCE_QUOTAS,
  ResourceType,
  REVISIONS,
  ROLE_BINDINGS,
  TENANTS,
} from '@paved/kube';
import {
  ISOLATION_POLICY,
  LIMIT_RANGE,
  OWNER_ROLE_BINDING,
  RESOURCE_QUOTA,
} from '../desired/names';
import {
  OWNER_ROLE_RULES,
  PAVED_OWNER_CLUSTER_ROLE,
} from '../desired/ownerRole';
import { Operator } from '../operator';
import { ClusterHandle, startCluster } from '../__testUtils__/cluster';
import {
  applyTenant,
  startOperator,
  statusOf,
} from '../__testUtils__/operatorHarness';
import { renderChart, writeManifests } from '../__testUtils__/chart';

const run = promisify(execFile);
jest.setTimeout(120_000);

/** What the chart's RBAC is made of (its Deployment is not needed here). */
const RBAC_KINDS = [
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
];

const core = (plural: string, kind: string): ResourceType => ({
  group: '',
  version: 'v1',
  plural,
  kind,
  namespaced: true,
});
const PODS = core('pods', 'Pod');
const CONFIG_MAPS = core('configmaps', 'ConfigMap');
const SECRETS = core('secrets', 'Secret');
const SERVICE_ACCOUNTS = core('serviceaccounts', 'ServiceAccount');
const ROLES: ResourceType = { ...ROLE_BINDINGS, plural: 'roles', kind: 'Role' };
const CLUSTER_ROLE_BINDINGS: ResourceType = {
  ...CLUSTER_ROLES,
  plural: 'clusterrolebindings',
  kind: 'ClusterRoleBinding',
};
const NODES: ResourceType = {
  ...NAMESPACES,
  plural: 'nodes',
  kind: 'Node',
};
const DEPLOYMENTS: ResourceType = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};

const OWN = 'tenant-alpha';
const OTHER = 'tenant-beta';

type Outcome = 'allowed' | 'forbidden';

/**
 * What the API server answered: `forbidden` for RBAC's 403 (its message says
 * who "cannot" do what), `allowed` for any other answer of the API server —
 * a 404 or 409 means the request got past authorization. Not reaching the
 * server (code 0) is neither: it fails the test.
 */
async function outcome(request: () => Promise<unknown>): Promise<Outcome> {
  try {
    await request();
    return 'allowed';
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 403) {
      if (!/cannot/.test(error.message)) throw error;
      return 'forbidden';
    }
    if (error instanceof KubeApiError && error.code > 0) return 'allowed';
    throw error;
  }
}

interface Access {
  verb: string;
  group?: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** A SelfSubjectAccessReview: for what cannot be tried without a node. */
async function selfReview(
  client: KubeClient,
  access: Access,
): Promise<boolean> {
  const answer = await client.request<any>(
    'POST',
    '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { group: '', ...access } },
      },
    },
  );
  return answer.status.allowed === true;
}

/** A SubjectAccessReview, asked by the admin about someone else. */
async function review(
  admin: KubeClient,
  user: string,
  groups: string[],
  access: Access,
): Promise<boolean> {
  const answer = await admin.request<any>(
    'POST',
    '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user, groups, resourceAttributes: { group: '', ...access } },
      },
    },
  );
  return answer.status.allowed === true;
}

const configMap = (namespace: string, name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace },
  data: { greeting: 'hello' },
});

/** An egress policy that reopens what the isolation policy closes. */
const reopenEverything = (namespace: string): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'reopen', namespace },
  spec: {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: [{ to: [{ ipBlock: { cidr: '169.254.169.254/32' } }] }],
  },
});

describe('the owner role, as the owner', () => {
  let handle: ClusterHandle;
  let operator: Operator | undefined;
  let owner: KubeClient;
  const admin = () => handle.client;

  // Helm renders the chart; built from its Go module on a fresh machine.
  beforeAll(() => ensureHelm(), 15 * 60_000);
  beforeAll(async () => {
    handle = await startCluster();
    const { kubectl } = await ensureControlPlaneBinaries();
    // The chart's RBAC, in the namespace `helm install -n paved-system
    // --create-namespace` would make.
    const rbac = (await renderChart()).objects.filter(o =>
      RBAC_KINDS.includes(o.kind),
    );
    const namespace = { apiVersion: 'v1', kind: 'Namespace' };
    await run(kubectl, [
      '--kubeconfig',
      handle.cluster.kubeconfigPath,
      'apply',
      '-f',
      writeManifests(
        [{ ...namespace, metadata: { name: 'paved-system' } }, ...rbac]
          .map(o => stringify(o))
          .join('---\n'),
      ),
    ]);
    // The operator is the one that creates the role.
    if (await admin().tryGet(CLUSTER_ROLES, PAVED_OWNER_CLUSTER_ROLE)) {
      throw new Error(
        `${PAVED_OWNER_CLUSTER_ROLE} exists before the operator ran`,
      );
    }

    // The operator as its service account, with only the chart's rights.
    const asServiceAccount = await handle.cluster.userKubeConfig(
      'system:serviceaccount:paved-system:paved-operator',
      ['system:serviceaccounts', 'system:serviceaccounts:paved-system'],
    );
    operator = await startOperator(handle.cluster, {
      kubeConfig: asServiceAccount,
      // No Capsule controller runs here: owners get the RoleBinding.
      features: { capsule: false },
      // The role is re-applied every resync period.
      resyncMs: 1000,
    });
    await operator.waitUntilLeading();
    await applyTenant(admin(), 'alpha', { owner: 'group:default/team-alpha' });
    await applyTenant(admin(), 'beta', { owner: 'group:default/team-beta' });
    for (const name of ['alpha', 'beta']) {
      await eventually(
        `tenant ${name} Active as the service account`,
        async () =>
          statusOf(await admin().get(TENANTS, name)).phase === 'Active',
      );
    }
    owner = await KubeClient.fromKubeConfig(
      await handle.cluster.userKubeConfig('alice', ['team-alpha']),
    );
  }, 240_000);

  afterAll(async () => {
    owner?.close();
    await operator?.stop();
    handle?.client.close();
    await handle?.cluster.stop();
  }, 60_000);

  it('is applied by the operator as its service account, and the owner group is bound to it', async () => {
    const role = (await admin().get(
      CLUSTER_ROLES,
      PAVED_OWNER_CLUSTER_ROLE,
    )) as any;
    expect(role.rules).toEqual(OWNER_ROLE_RULES.map(r => ({ ...r })));
    const binding = (await admin().get(
      ROLE_BINDINGS,
      OWNER_ROLE_BINDING,
      OWN,
    )) as any;
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: PAVED_OWNER_CLUSTER_ROLE,
    });
    expect(binding.subjects).toEqual([
      {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Group',
        name: 'team-alpha',
      },
    ]);
    // The operator can no longer hand out `edit`.
    expect(
      await review(
        admin(),
        'system:serviceaccount:paved-system:paved-operator',
        ['system:serviceaccounts'],
        {
          verb: 'bind',
          group: 'rbac.authorization.k8s.io',
          resource: 'clusterroles',
          name: 'edit',
        },
      ),
    ).toBe(false);
  });

  // Each row is a real request by the owner, in its own namespace.
  /** A Secret as the platform writes one (a domain's TLS certificate). */
  const PLATFORM_SECRET = 'paved-tls-shop.example.com';
  const platformSecret = () =>
    admin().apply(SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: PLATFORM_SECRET, namespace: OWN },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' },
    });
  const ownNamespace: Array<[string, Outcome, () => Promise<unknown>]> = [
    // The positive control: without it a broken login would pass every "forbidden".
    ['list pods', 'allowed', () => owner.list(PODS, { namespace: OWN })],
    [
      'read a pod log (404: authorized, no such pod)',
      'allowed',
      () => owner.request('GET', `/api/v1/namespaces/${OWN}/pods/web-0/log`),
    ],
    [
      'list events',
      'allowed',
      () => owner.list(core('events', 'Event'), { namespace: OWN }),
    ],
    [
      'list services',
      'allowed',
      () => owner.list(core('services', 'Service'), { namespace: OWN }),
    ],
    [
      'list endpoints',
      'allowed',
      () => owner.list(core('endpoints', 'Endpoints'), { namespace: OWN }),
    ],
    [
      'list deployments',
      'allowed',
      () => owner.list(DEPLOYMENTS, { namespace: OWN }),
    ],
    [
      'list replica sets',
      'allowed',
      () =>
        owner.list(
          { ...DEPLOYMENTS, plural: 'replicasets', kind: 'ReplicaSet' },
          { namespace: OWN },
        ),
    ],
    [
      'list EndpointSlices',
      'allowed',
      () =>
        owner.list(
          {
            group: 'discovery.k8s.io',
            version: 'v1',
            plural: 'endpointslices',
            kind: 'EndpointSlice',
            namespaced: true,
          },
          { namespace: OWN },
        ),
    ],
    [
      'list events.k8s.io events',
      'allowed',
      () =>
        owner.list(
          {
            group: 'events.k8s.io',
            version: 'v1',
            plural: 'events',
            kind: 'Event',
            namespaced: true,
          },
          { namespace: OWN },
        ),
    ],
    [
      'read a NetworkPolicy (404: authorized, Cilium holds the policy here)',
      'allowed',
      () => owner.get(NETWORK_POLICIES, ISOLATION_POLICY, OWN),
    ],
    [
      'list Knative services',
      'allowed',
      () => owner.list(KNATIVE_SERVICES, { namespace: OWN }),
    ],
    [
      'list Knative revisions',
      'allowed',
      () => owner.list(REVISIONS, { namespace: OWN }),
    ],
    [
      'list domain mappings',
      'allowed',
      () => owner.list(DOMAIN_MAPPINGS, { namespace: OWN }),
    ],
    ['list Paved apps', 'allowed', () => owner.list(APPS, { namespace: OWN })],
    [
      'read its quota',
      'allowed',
      () => owner.get(RESOURCE_QUOTAS, RESOURCE_QUOTA, OWN),
    ],
    [
      'read its LimitRange',
      'allowed',
      () => owner.get(LIMIT_RANGES, LIMIT_RANGE, OWN),
    ],
    [
      'read its isolation policy',
      'allowed',
      () => owner.get(CILIUM_NETWORK_POLICIES, ISOLATION_POLICY, OWN),
    ],
    [
      'create, update and delete a ConfigMap',
      'allowed',
      async () => {
        await owner.create(CONFIG_MAPS, configMap(OWN, 'settings'));
        await owner.apply(CONFIG_MAPS, {
          ...configMap(OWN, 'settings'),
          data: { greeting: 'hi' },
        });
        await owner.delete(CONFIG_MAPS, 'settings', OWN);
      },
    ],
    [
      'read a Secret the platform wrote',
      'allowed',
      async () => {
        await platformSecret();
        const secret = await owner.get<any>(SECRETS, PLATFORM_SECRET, OWN);
        if (secret.data['tls.crt'] !== 'Y2VydA==') {
          throw new Error(`read ${JSON.stringify(secret.data)}`);
        }
      },
    ],
    // Every Secret in the namespace is the platform's (env values, the TLS
    // certificates the ingress serves for the tenant's domains).
    [
      'create a Secret',
      'forbidden',
      () =>
        owner.create(SECRETS, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'db', namespace: OWN },
          stringData: { password: 'p' },
        }),
    ],
    [
      "replace a domain's TLS certificate",
      'forbidden',
      async () => {
        await platformSecret();
        await owner.mergePatch(SECRETS, PLATFORM_SECRET, OWN, {
          stringData: { 'tls.crt': 'mine' },
        });
      },
    ],
    [
      "delete a domain's TLS Secret",
      'forbidden',
      async () => {
        await platformSecret();
        await owner.delete(SECRETS, PLATFORM_SECRET, OWN);
      },
    ],

    [
      'create a NetworkPolicy',
      'forbidden',
      () => owner.create(NETWORK_POLICIES, reopenEverything(OWN)),
    ],
    [
      'patch a NetworkPolicy',
      'forbidden',
      () =>
        owner.mergePatch(NETWORK_POLICIES, ISOLATION_POLICY, OWN, {
          spec: { egress: [{}] },
        }),
    ],
    [
      'delete a NetworkPolicy',
      'forbidden',
      () => owner.delete(NETWORK_POLICIES, ISOLATION_POLICY, OWN),
    ],
    [
      'create a CiliumNetworkPolicy',
      'forbidden',
      () =>
        owner.create(CILIUM_NETWORK_POLICIES, {
          apiVersion: 'cilium.io/v2',
          kind: 'CiliumNetworkPolicy',
          metadata: { name: 'reopen', namespace: OWN },
          spec: {
            endpointSelector: {},
            egress: [{ toCIDR: ['169.254.169.254/32'] }],
          },
        }),
    ],
    [
      'patch the CiliumNetworkPolicy',
      'forbidden',
      () =>
        owner.mergePatch(CILIUM_NETWORK_POLICIES, ISOLATION_POLICY, OWN, {
          spec: { egress: [{}] },
        }),
    ],
    [
      'delete the CiliumNetworkPolicy',
      'forbidden',
      () => owner.delete(CILIUM_NETWORK_POLICIES, ISOLATION_POLICY, OWN),
    ],
    [
      'raise its quota',
      'forbidden',
      () =>
        owner.mergePatch(RESOURCE_QUOTAS, RESOURCE_QUOTA, OWN, {
          spec: { hard: { 'requests.cpu': '64' } },
        }),
    ],
    [
      'delete its quota',
      'forbidden',
      () => owner.delete(RESOURCE_QUOTAS, RESOURCE_QUOTA, OWN),
    ],
    [
      'create a ResourceQuota',
      'forbidden',
      () =>
        owner.create(RESOURCE_QUOTAS, {
          apiVersion: 'v1',
          kind: 'ResourceQuota',
          metadata: { name: 'more', namespace: OWN },
          spec: { hard: { pods: '1' } },
        }),
    ],
    [
      'patch its LimitRange',
      'forbidden',
      () =>
        owner.mergePatch(LIMIT_RANGES, LIMIT_RANGE, OWN, {
          metadata: { labels: { x: 'y' } },
        }),
    ],
    [
      'delete its LimitRange',
      'forbidden',
      () => owner.delete(LIMIT_RANGES, LIMIT_RANGE, OWN),
    ],
    [
      'create a Role',
      'forbidden',
      () =>
        owner.create(ROLES, {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'mine', namespace: OWN },
          rules: [],
        }),
    ],
    [
      'create a RoleBinding to admin',
      'forbidden',
      () =>
        owner.create(ROLE_BINDINGS, {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'mine', namespace: OWN },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'ClusterRole',
            name: 'admin',
          },
          subjects: [
            {
              apiGroup: 'rbac.authorization.k8s.io',
              kind: 'Group',
              name: 'team-alpha',
            },
          ],
        }),
    ],
    [
      'patch its own RoleBinding',
      'forbidden',
      () =>
        owner.mergePatch(ROLE_BINDINGS, OWNER_ROLE_BINDING, OWN, {
          subjects: [
            {
              apiGroup: 'rbac.authorization.k8s.io',
              kind: 'Group',
              name: 'everyone',
            },
          ],
        }),
    ],
    [
      'delete its own RoleBinding',
      'forbidden',
      () => owner.delete(ROLE_BINDINGS, OWNER_ROLE_BINDING, OWN),
    ],
    [
      'create a pod (apps go through Paved)',
      'forbidden',
      () =>
        owner.create(PODS, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p', namespace: OWN },
          spec: { containers: [{ name: 'c', image: 'x' }] },
        }),
    ],
    ['delete a pod', 'forbidden', () => owner.delete(PODS, 'web-0', OWN)],
    [
      'create a Knative service (apps go through Paved)',
      'forbidden',
      () =>
        owner.create(KNATIVE_SERVICES, {
          apiVersion: 'serving.knative.dev/v1',
          kind: 'Service',
          metadata: { name: 'direct', namespace: OWN },
          spec: {},
        }),
    ],
    ['delete a Paved app', 'forbidden', () => owner.delete(APPS, 'web', OWN)],
    [
      'create a Deployment',
      'forbidden',
      () =>
        owner.create(DEPLOYMENTS, {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'd', namespace: OWN },
          spec: {},
        }),
    ],
    [
      'create a Paved app (apps go through the backend)',
      'forbidden',
      () =>
        owner.create(APPS, {
          apiVersion: 'paved.dev/v1alpha1',
          kind: 'App',
          metadata: { name: 'web', namespace: OWN },
          spec: { image: 'x', port: 8080 },
        }),
    ],
    [
      'delete the default service account',
      'forbidden',
      () => owner.delete(SERVICE_ACCOUNTS, 'default', OWN),
    ],
    [
      'create a service account',
      'forbidden',
      () =>
        owner.create(SERVICE_ACCOUNTS, {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name: 'robot', namespace: OWN },
        }),
    ],
    [
      "request the default service account's token",
      'forbidden',
      () =>
        owner.request(
          'POST',
          `/api/v1/namespaces/${OWN}/serviceaccounts/default/token`,
          {
            body: {
              apiVersion: 'authentication.k8s.io/v1',
              kind: 'TokenRequest',
              spec: {},
            },
          },
        ),
    ],
  ];

  it.each(ownNamespace)(
    'in its namespace: %s → %s',
    async (_what, expected, request) => {
      expect(await outcome(request)).toBe(expected);
    },
  );

  // Without a node there is no pod to exec into: ask the API server instead.
  const selfReviews: Array<[string, Access, boolean]> = [
    [
      'read pod metrics (metrics.k8s.io is not served here)',
      { verb: 'list', group: 'metrics.k8s.io', resource: 'pods' },
      true,
    ],
    [
      'read pod logs',
      { verb: 'get', resource: 'pods', subresource: 'log' },
      true,
    ],
    [
      'list Knative routes',
      { verb: 'list', group: 'serving.knative.dev', resource: 'routes' },
      true,
    ],
    [
      'list Knative configurations',
      {
        verb: 'list',
        group: 'serving.knative.dev',
        resource: 'configurations',
      },
      true,
    ],
    [
      'exec into a pod',
      { verb: 'create', resource: 'pods', subresource: 'exec' },
      false,
    ],
    [
      'exec into a pod (GET upgrade)',
      { verb: 'get', resource: 'pods', subresource: 'exec' },
      false,
    ],
    [
      'attach to a pod',
      { verb: 'create', resource: 'pods', subresource: 'attach' },
      false,
    ],
    [
      'port-forward to a pod',
      { verb: 'create', resource: 'pods', subresource: 'portforward' },
      false,
    ],
    [
      'proxy to a service',
      { verb: 'get', resource: 'services', subresource: 'proxy' },
      false,
    ],
    [
      'bind a ClusterRole',
      {
        verb: 'bind',
        group: 'rbac.authorization.k8s.io',
        resource: 'clusterroles',
        name: 'admin',
      },
      false,
    ],
    [
      'escalate a Role',
      {
        verb: 'escalate',
        group: 'rbac.authorization.k8s.io',
        resource: 'roles',
      },
      false,
    ],
    ['impersonate', { verb: 'impersonate', resource: 'users' }, false],
  ];
  it.each(
    selfReviews.map(([what, access, allowed]) => [
      what,
      allowed ? 'allowed' : 'forbidden',
      access,
    ]),
  )(
    'in its namespace, says SelfSubjectAccessReview: %s → %s',
    async (_what, expected, access) => {
      const allowed = await selfReview(owner, {
        namespace: OWN,
        ...(access as Access),
      });
      expect(allowed ? 'allowed' : 'forbidden').toBe(expected);
    },
  );

  it.each<[string, () => Promise<unknown>]>([
    ['list pods', () => owner.list(PODS, { namespace: OTHER })],
    ['list secrets', () => owner.list(SECRETS, { namespace: OTHER })],
    [
      'read a ConfigMap',
      () => owner.get(CONFIG_MAPS, 'kube-root-ca.crt', OTHER),
    ],
    [
      'create a ConfigMap',
      () => owner.create(CONFIG_MAPS, configMap(OTHER, 'x')),
    ],
    [
      'list Knative services',
      () => owner.list(KNATIVE_SERVICES, { namespace: OTHER }),
    ],
    ['list Paved apps', () => owner.list(APPS, { namespace: OTHER })],
    [
      'read its isolation policy',
      () => owner.get(CILIUM_NETWORK_POLICIES, ISOLATION_POLICY, OTHER),
    ],
    ['list pods in default', () => owner.list(PODS, { namespace: 'default' })],
    [
      'list secrets in paved-system',
      () => owner.list(SECRETS, { namespace: 'paved-system' }),
    ],
  ])(
    "in another tenant's namespace or a platform one: %s → forbidden",
    async (_what, request) => {
      expect(await outcome(request)).toBe('forbidden');
    },
  );

  it.each<[string, () => Promise<unknown>]>([
    ['list namespaces', () => owner.list(NAMESPACES)],
    ['read its own Namespace object', () => owner.get(NAMESPACES, OWN)],
    ['delete its own namespace', () => owner.delete(NAMESPACES, OWN)],
    [
      'create a namespace',
      () =>
        owner.create(NAMESPACES, {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'mine' },
        }),
    ],
    ['list nodes', () => owner.list(NODES)],
    ['list ClusterRoles', () => owner.list(CLUSTER_ROLES)],
    [
      'widen the owner role',
      () =>
        owner.mergePatch(CLUSTER_ROLES, PAVED_OWNER_CLUSTER_ROLE, undefined, {
          rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
        }),
    ],
    [
      'create a ClusterRoleBinding',
      () =>
        owner.create(CLUSTER_ROLE_BINDINGS, {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: 'mine' },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'ClusterRole',
            name: 'cluster-admin',
          },
          subjects: [
            {
              apiGroup: 'rbac.authorization.k8s.io',
              kind: 'Group',
              name: 'team-alpha',
            },
          ],
        }),
    ],
    ['list Tenants', () => owner.list(TENANTS)],
    ['read its own Tenant', () => owner.get(TENANTS, 'alpha')],
    [
      'change its own plan',
      () =>
        owner.mergePatch(TENANTS, 'alpha', undefined, {
          spec: { plan: 'pro' },
        }),
    ],
    ['list Apps in all namespaces', () => owner.list(APPS)],
    ['list pods in all namespaces', () => owner.list(PODS)],
    ['list CRDs', () => owner.list(CRDS)],
    ['list Capsule tenants', () => owner.list(CAPSULE_TENANTS)],
    ['list domain claims', () => owner.list(CLUSTER_DOMAIN_CLAIMS)],
  ])('cluster-scoped: %s → forbidden', async (_what, request) => {
    expect(await outcome(request)).toBe('forbidden');
  });

  it('is narrower than `edit`, which let an owner reopen the network', async () => {
    // A subject bound to `edit` in the same namespace, as owners used to be.
    await admin().create(ROLE_BINDINGS, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'old-owners', namespace: OWN },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'edit',
      },
      subjects: [
        {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'Group',
          name: 'edit-owners',
        },
      ],
    });
    const asEdit = await KubeClient.fromKubeConfig(
      await handle.cluster.userKubeConfig('bob', ['edit-owners']),
    );
    try {
      const access = (resource: string, group = '', subresource?: string) => ({
        verb: 'create',
        group,
        resource,
        subresource,
        namespace: OWN,
      });
      const rows: Array<[string, Access]> = [
        [
          'create NetworkPolicies',
          access('networkpolicies', 'networking.k8s.io'),
        ],
        ['exec into pods', access('pods', '', 'exec')],
        ['create pods', access('pods')],
        ['create service accounts', access('serviceaccounts')],
      ];
      // `edit` is an aggregated role: its rules arrive from the controller manager.
      await eventually('edit aggregated', () =>
        review(admin(), 'bob', ['edit-owners'], rows[0][1]),
      );
      const table = await Promise.all(
        rows.map(async ([what, a]) => [
          what,
          await review(admin(), 'bob', ['edit-owners'], a),
          await review(admin(), 'alice', ['team-alpha'], a),
        ]),
      );
      expect(table).toEqual(rows.map(([what]) => [what, true, false]));

      // And for real: `edit` writes the policy that reopens 169.254.169.254.
      expect(
        await outcome(() =>
          asEdit.create(NETWORK_POLICIES, reopenEverything(OWN)),
        ),
      ).toBe('allowed');
      expect(
        await outcome(() =>
          owner.create(NETWORK_POLICIES, reopenEverything(OWN)),
        ),
      ).toBe('forbidden');
    } finally {
      asEdit.close();
      await admin().delete(NETWORK_POLICIES, 'reopen', OWN);
      await admin().delete(ROLE_BINDINGS, 'old-owners', OWN);
    }
  });

  it('comes back when it is widened or deleted by hand', async () => {
    await admin().mergePatch(
      CLUSTER_ROLES,
      PAVED_OWNER_CLUSTER_ROLE,
      undefined,
      {
        rules: [
          {
            apiGroups: ['networking.k8s.io'],
            resources: ['networkpolicies'],
            verbs: ['*'],
          },
        ],
      },
    );
    await eventually(
      'the role restored after a hand edit',
      async () =>
        isDeepStrictEqual(
          ((await admin().get(CLUSTER_ROLES, PAVED_OWNER_CLUSTER_ROLE)) as any)
            .rules,
          OWNER_ROLE_RULES,
        ),
      15_000,
    );
    await admin().delete(CLUSTER_ROLES, PAVED_OWNER_CLUSTER_ROLE);
    await eventually(
      'the role re-created after a delete',
      async () =>
        (await admin().tryGet(CLUSTER_ROLES, PAVED_OWNER_CLUSTER_ROLE)) !==
        undefined,
      15_000,
    );
    // The authorizer's cache follows the new role: the owner has its rights back.
    await eventually(
      'the owner allowed again',
      async () =>
        (await outcome(() => owner.list(PODS, { namespace: OWN }))) ===
        'allowed',
      15_000,
    );
    expect(
      ((await admin().get(CLUSTER_ROLES, PAVED_OWNER_CLUSTER_ROLE)) as any)
        .rules,
    ).toEqual(OWNER_ROLE_RULES);
  });
});
