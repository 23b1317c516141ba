/**
 * Who may act in a tenant's namespace: the tenant's owner group.
 *
 * The owner is a Backstage group entity ref (`group:<namespace>/<name>`). It
 * maps to the Kubernetes group `<prefix><name>` for the `default` catalog
 * namespace and `<prefix><namespace>/<name>` otherwise, which is what an
 * identity provider that syncs the same groups to Backstage and to the
 * cluster's OIDC login produces (`team-a` in both places).
 */
import { parseEntityRefParts, pavedLabels, TenantResource } from './refs';
import { KubeObject } from '@paved/kube';
import { DesiredStateConfig } from './config';
import { namespaceName } from './namespace';
import { OWNER_ROLE_BINDING } from './names';

export function ownerGroup(
  ownerRef: string,
  config: DesiredStateConfig,
): string {
  const { namespace, name } = parseEntityRefParts(ownerRef);
  const group = namespace === 'default' ? name : `${namespace}/${name}`;
  return `${config.ownerGroupPrefix}${group}`;
}

/** Capsule's Tenant: the owner group owns exactly this one namespace. */
export function desiredCapsuleTenant(
  tenant: TenantResource,
  config: DesiredStateConfig,
): KubeObject {
  return {
    apiVersion: 'capsule.clastix.io/v1beta2',
    kind: 'Tenant',
    metadata: {
      name: tenant.metadata.name,
      labels: pavedLabels(tenant.metadata.name),
    },
    spec: {
      owners: [
        {
          kind: 'Group',
          name: ownerGroup(tenant.spec.owner, config),
          clusterRoles: [config.ownerClusterRole],
        },
      ],
      namespaceOptions: { quota: 1 },
    },
  };
}

/** Without Capsule: one RoleBinding granting the owner group the owner role. */
export function desiredOwnerRoleBinding(
  tenant: TenantResource,
  config: DesiredStateConfig,
): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: {
      name: OWNER_ROLE_BINDING,
      namespace: namespaceName(tenant.metadata.name, config),
      labels: pavedLabels(tenant.metadata.name),
    },
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: config.ownerClusterRole,
    },
    subjects: [
      {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Group',
        name: ownerGroup(tenant.spec.owner, config),
      },
    ],
  };
}
