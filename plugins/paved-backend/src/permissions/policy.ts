import { createBackendModule } from '@backstage/backend-plugin-api';
import {
  AuthorizeResult,
  PolicyDecision,
  isResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { PAVED_TENANT_RESOURCE_TYPE } from '@paved/plugin-paved-common';
import {
  createPavedTenantConditionalDecision,
  pavedTenantConditions,
} from './rules';

/**
 * Paved's default policy: signed-in users may create tenants; everything on
 * a tenant and its apps is allowed to members of the tenant's owner group
 * (the user's ownership entity refs); other permissions are allowed.
 *
 * An app with its own policy calls {@link pavedTenantDecision} for Paved's
 * permissions instead of adding this one.
 */
export class PavedPermissionPolicy implements PermissionPolicy {
  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    return (
      pavedTenantDecision(request, user) ?? { result: AuthorizeResult.ALLOW }
    );
  }
}

/**
 * The decision for a Paved permission, or undefined for other permissions:
 * owner-conditional for `paved-tenant` permissions, allow for tenant creation
 * by a user, deny without a user.
 */
export function pavedTenantDecision(
  request: PolicyQuery,
  user?: PolicyQueryUser,
): PolicyDecision | undefined {
  const { permission } = request;
  if (!permission.name.startsWith('paved.')) return undefined;
  if (isResourcePermission(permission, PAVED_TENANT_RESOURCE_TYPE)) {
    if (!user) return { result: AuthorizeResult.DENY };
    return createPavedTenantConditionalDecision(
      permission,
      pavedTenantConditions.isTenantOwner({
        claims: user.info.ownershipEntityRefs ?? [],
      }),
    );
  }
  return { result: user ? AuthorizeResult.ALLOW : AuthorizeResult.DENY };
}

/**
 * Installs {@link PavedPermissionPolicy} as the backend's permission policy.
 * Use it instead of the allow-all policy module, not next to it.
 */
export const permissionModulePavedPolicy = createBackendModule({
  pluginId: 'permission',
  moduleId: 'paved-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint },
      async init({ policy }) {
        policy.setPolicy(new PavedPermissionPolicy());
      },
    });
  },
});
