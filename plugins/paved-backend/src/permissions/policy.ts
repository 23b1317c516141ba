import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
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
import { tenantLimitsOverridePermission } from './permissions';

export interface PavedPolicyOptions {
  /**
   * Entity refs (users or groups) of the platform team: allowed everything,
   * including overriding plan limits. From `paved.permissions.admins`.
   */
  admins?: string[];
}

/**
 * Paved's default policy: signed-in users may create tenants; everything on
 * a tenant and its apps is allowed to members of the tenant's owner group
 * (the user's ownership entity refs); overriding plan limits and everything
 * else is allowed to admins; other permissions are allowed.
 *
 * An app with its own policy calls {@link pavedTenantDecision} for Paved's
 * permissions instead of adding this one.
 */
export class PavedPermissionPolicy implements PermissionPolicy {
  constructor(private readonly options: PavedPolicyOptions = {}) {}

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    return (
      pavedTenantDecision(request, user, this.options) ?? {
        result: AuthorizeResult.ALLOW,
      }
    );
  }
}

/**
 * The decision for a Paved permission, or undefined for other permissions:
 * allow for admins; owner-conditional for `paved-tenant` permissions; deny
 * for overriding plan limits; allow for tenant creation by a user; deny
 * without a user.
 */
export function pavedTenantDecision(
  request: PolicyQuery,
  user?: PolicyQueryUser,
  options: PavedPolicyOptions = {},
): PolicyDecision | undefined {
  const { permission } = request;
  if (!permission.name.startsWith('paved.')) return undefined;
  const claims = user?.info.ownershipEntityRefs ?? [];
  if (options.admins?.some(admin => claims.includes(admin))) {
    return { result: AuthorizeResult.ALLOW };
  }
  if (permission.name === tenantLimitsOverridePermission.name) {
    return { result: AuthorizeResult.DENY };
  }
  if (isResourcePermission(permission, PAVED_TENANT_RESOURCE_TYPE)) {
    if (!user) return { result: AuthorizeResult.DENY };
    return createPavedTenantConditionalDecision(
      permission,
      pavedTenantConditions.isTenantOwner({ claims }),
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
      deps: { policy: policyExtensionPoint, config: coreServices.rootConfig },
      async init({ policy, config }) {
        policy.setPolicy(
          new PavedPermissionPolicy({
            admins: config.getOptionalStringArray('paved.permissions.admins'),
          }),
        );
      },
    });
  },
});
