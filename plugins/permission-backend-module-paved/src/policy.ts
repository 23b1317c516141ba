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
import {
  ANNOTATION_APP,
  PAVED_TENANT_RESOURCE_TYPE,
} from '@paved/plugin-paved-common';
// The rule and the platform permissions are shared with the backend plugin
// (its permission integration applies the conditions) through paved-node.
import {
  createPavedTenantConditionalDecision,
  pavedTenantConditions,
  platformPermissions,
} from '@paved/plugin-paved-node';

export interface PavedPolicyOptions {
  /**
   * Entity refs (users or groups) of the platform team: allowed everything,
   * including overriding plan limits. From `paved.permissions.admins`.
   */
  admins?: string[];
  /**
   * Show Paved's catalog entities (one Component per app) to every
   * signed-in user. By default only the app's owner group and admins see
   * them. From `paved.catalog.visibleToAll`.
   */
  catalogVisibleToAll?: boolean;
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
      pavedTenantDecision(request, user, this.options) ??
      pavedCatalogDecision(request, user, this.options) ?? {
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
  if (isAdmin(claims, options)) return { result: AuthorizeResult.ALLOW };
  if (platformPermissions.some(p => p.name === permission.name)) {
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

const CATALOG_ENTITY = 'catalog-entity';

/** Whether the user's claims include one of the platform team's refs. */
function isAdmin(claims: string[], options: PavedPolicyOptions): boolean {
  return Boolean(options.admins?.some(admin => claims.includes(admin)));
}

/**
 * The decision for reading catalog entities, or undefined for other
 * permissions: Paved's entities (annotated `paved.dev/app`) only for their
 * owner group and admins, other entities as before (allowed). Backend
 * services read everything: the search indexer and Paved's own provider
 * run as services, and users' reads are filtered again where they land.
 */
export function pavedCatalogDecision(
  request: PolicyQuery,
  user?: PolicyQueryUser,
  options: PavedPolicyOptions = {},
): PolicyDecision | undefined {
  const { permission } = request;
  if (
    permission.name !== 'catalog.entity.read' ||
    !isResourcePermission(permission, CATALOG_ENTITY)
  ) {
    return undefined;
  }
  if (options.catalogVisibleToAll || !user) {
    return { result: AuthorizeResult.ALLOW };
  }
  const claims = user.info.ownershipEntityRefs ?? [];
  if (isAdmin(claims, options)) return { result: AuthorizeResult.ALLOW };
  return {
    result: AuthorizeResult.CONDITIONAL,
    pluginId: 'catalog',
    resourceType: CATALOG_ENTITY,
    conditions: {
      anyOf: [
        {
          not: {
            rule: 'HAS_ANNOTATION',
            resourceType: CATALOG_ENTITY,
            params: { annotation: ANNOTATION_APP },
          },
        },
        {
          rule: 'IS_ENTITY_OWNER',
          resourceType: CATALOG_ENTITY,
          params: { claims },
        },
      ],
    },
  };
}

/** The policy's options from app-config. */
export function pavedPolicyOptions(config: {
  getOptionalStringArray(key: string): string[] | undefined;
  getOptionalBoolean(key: string): boolean | undefined;
}): PavedPolicyOptions {
  return {
    admins: config.getOptionalStringArray('paved.permissions.admins'),
    catalogVisibleToAll:
      config.getOptionalBoolean('paved.catalog.visibleToAll') ?? false,
  };
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
        policy.setPolicy(new PavedPermissionPolicy(pavedPolicyOptions(config)));
      },
    });
  },
});
