import { ensureHelm } from '@paved/test-cluster';
import { DEFAULT_DESIRED_STATE_CONFIG } from './config';
import {
  desiredOwnerClusterRole,
  OWNER_ROLE_RULES,
  PAVED_OWNER_CLUSTER_ROLE,
} from './ownerRole';
import { desiredCapsuleTenant, desiredOwnerRoleBinding } from './rbac';
import { tenantFixture } from '../__testUtils__/fixtures';
import { renderChart } from '../__testUtils__/chart';

const READ = new Set(['get', 'list', 'watch']);

/** The rules that grant `verb` on `group`/`resource` (wildcards included). */
function grants(group: string, resource: string) {
  return OWNER_ROLE_RULES.filter(
    r =>
      (r.apiGroups.includes(group) || r.apiGroups.includes('*')) &&
      (r.resources.includes(resource) || r.resources.includes('*')),
  ).flatMap(r => r.verbs);
}

describe('the owner ClusterRole', () => {
  it('is what owners are bound to by default, with and without Capsule', () => {
    const config = DEFAULT_DESIRED_STATE_CONFIG;
    expect(config.ownerClusterRole).toBe('paved-tenant-owner');
    expect(
      (desiredOwnerRoleBinding(tenantFixture(), config) as any).roleRef.name,
    ).toBe(PAVED_OWNER_CLUSTER_ROLE);
    expect(
      (desiredCapsuleTenant(tenantFixture(), config) as any).spec.owners[0]
        .clusterRoles,
    ).toEqual([PAVED_OWNER_CLUSTER_ROLE]);
  });

  it('has no wildcards and no resourceNames', () => {
    for (const rule of OWNER_ROLE_RULES) {
      expect([
        ...rule.apiGroups,
        ...rule.resources,
        ...rule.verbs,
      ]).not.toContain('*');
      expect(rule).not.toHaveProperty('resourceNames');
    }
    expect(desiredOwnerClusterRole()).toMatchObject({
      kind: 'ClusterRole',
      metadata: { name: PAVED_OWNER_CLUSTER_ROLE },
      rules: OWNER_ROLE_RULES,
    });
  });

  it.each([
    ['networking.k8s.io', 'networkpolicies'],
    ['cilium.io', 'ciliumnetworkpolicies'],
    ['', 'resourcequotas'],
    ['', 'limitranges'],
    ['', 'pods'],
    ['serving.knative.dev', 'services'],
    ['paved.dev', 'apps'],
    // The platform's: env secret values and domains' TLS certificates.
    ['', 'secrets'],
  ])('only reads %s %s', (group, resource) => {
    expect(grants(group, resource).every(v => READ.has(v))).toBe(true);
  });

  it.each([
    ['rbac.authorization.k8s.io', 'roles'],
    ['rbac.authorization.k8s.io', 'rolebindings'],
    ['rbac.authorization.k8s.io', 'clusterroles'],
    ['', 'pods/exec'],
    ['', 'pods/attach'],
    ['', 'pods/portforward'],
    ['', 'serviceaccounts'],
    ['', 'namespaces'],
    ['paved.dev', 'tenants'],
  ])('grants nothing on %s %s', (group, resource) => {
    expect(grants(group, resource)).toEqual([]);
  });

  describe("in the operator's Helm chart", () => {
    // Helm is built from its Go module on a fresh machine (minutes), then cached.
    beforeAll(() => ensureHelm(), 15 * 60_000);

    it('is the one ClusterRole the operator may apply and bind, and `edit` no longer', async () => {
      const operatorRole = (await renderChart()).get(
        'ClusterRole',
        'paved-operator',
      );
      const onClusterRoles = operatorRole.rules.filter((r: any) =>
        r.resources.includes('clusterroles'),
      );
      expect(onClusterRoles).toEqual([
        {
          apiGroups: ['rbac.authorization.k8s.io'],
          resources: ['clusterroles'],
          verbs: ['create', 'patch', 'escalate', 'bind'],
          resourceNames: [PAVED_OWNER_CLUSTER_ROLE],
        },
      ]);
    });

    it('is swapped for a role of the platform, on which the operator may only bind', async () => {
      const operatorRole = (
        await renderChart({
          values: { settings: { ownerClusterRole: 'platform-owner' } },
        })
      ).get('ClusterRole', 'paved-operator');
      expect(
        operatorRole.rules.filter((r: any) =>
          r.resources.includes('clusterroles'),
        ),
      ).toEqual([
        {
          apiGroups: ['rbac.authorization.k8s.io'],
          resources: ['clusterroles'],
          verbs: ['bind'],
          resourceNames: ['platform-owner'],
        },
      ]);
    });
  });
});
