import type {
  BackstageCredentials,
  PermissionsRegistryService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import {
  AuthorizeResult,
  BasicPermission,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  createConditionAuthorizer,
  createConditionTransformer,
} from '@backstage/plugin-permission-node';
import {
  PAVED_TENANT_RESOURCE_TYPE,
  tenantCreatePermission,
  tenantReadPermission,
} from '@paved/plugin-paved-common';
import type {
  PavedStore,
  TenantFilter,
  TenantRecord,
} from '../database/PavedStore';
import { tenantResourceRef } from '@paved/plugin-paved-node';
import { BUILT_IN_SERVICE_ACCESS, ServiceScope } from './serviceAccess';

/** The one answer for a tenant that is missing, being deleted or not yours. */
export function tenantNotFound(name: string): NotFoundError {
  return new NotFoundError(`Tenant ${name} not found`);
}

/**
 * Decides what a caller may do to tenants, and turns conditional decisions
 * into database filters for lists. Anything on a tenant the caller may not
 * read answers 404, as for a tenant that does not exist; what a reader may
 * not do answers 403 naming the permission.
 */
export class TenantAccess {
  private readonly authorizeConditions;
  private readonly toQuery;

  constructor(
    private readonly permissions: PermissionsService,
    registry: PermissionsRegistryService,
    private readonly store: PavedStore,
    private readonly serviceAccess: ServiceScope[] = BUILT_IN_SERVICE_ACCESS,
  ) {
    const ruleset = registry.getPermissionRuleset(tenantResourceRef);
    this.authorizeConditions = createConditionAuthorizer(ruleset);
    this.toQuery = createConditionTransformer(ruleset);
  }

  /**
   * The scope of a service token, undefined for users; throws for a service
   * token Paved has no scope for (paved.serviceAccess).
   */
  private scopeOf(credentials: BackstageCredentials): ServiceScope | undefined {
    const principal = credentials.principal as any;
    if (principal.type !== 'service') return undefined;
    const scope = this.serviceAccess.find(s => s.subject === principal.subject);
    if (!scope) {
      throw new NotAllowedError(
        `The service token "${principal.subject}" has no Paved scope: list its subject in paved.serviceAccess with the tenants and actions it may use (tenants: ['*'] makes it an admin credential)`,
      );
    }
    return scope;
  }

  /** The filter for listing tenants (and their apps); undefined means all. */
  async readFilter(
    credentials: BackstageCredentials,
  ): Promise<TenantFilter | undefined> {
    const scope = this.scopeOf(credentials);
    if (scope && !scope.actions.includes('read')) return { names: [] };
    const [decision] = await this.permissions.authorizeConditional(
      [{ permission: tenantReadPermission }],
      { credentials },
    );
    if (scope && decision.result === AuthorizeResult.ALLOW) {
      return scope.tenants === '*' ? undefined : { names: scope.tenants };
    }
    if (decision.result === AuthorizeResult.ALLOW) return undefined;
    if (decision.result === AuthorizeResult.CONDITIONAL) {
      return this.toQuery(decision.conditions);
    }
    return { owners: [] };
  }

  async allowed(
    credentials: BackstageCredentials,
    permission: ResourcePermission<typeof PAVED_TENANT_RESOURCE_TYPE>,
    tenant: TenantRecord,
  ): Promise<boolean> {
    const [allowed] = await this.decide(credentials, [permission], tenant);
    return allowed;
  }

  /**
   * Whether the caller may act on `tenant` with each of `permissions`, in
   * one call to the permissions service (an app write decides updating and
   * deploying at once, before it knows which it is).
   */
  async decide(
    credentials: BackstageCredentials,
    permissions: Array<ResourcePermission<typeof PAVED_TENANT_RESOURCE_TYPE>>,
    tenant: TenantRecord,
  ): Promise<boolean[]> {
    const on = await this.decisionsOn(credentials, permissions, tenant.name);
    return on(tenant);
  }

  /**
   * {@link TenantAccess.decide} before the tenant's row is read: asks the
   * permissions service once, and returns what the answer means for the
   * tenant row given later (a write evaluates it against the row its
   * transaction locked, so the policy's call holds no lock and the request
   * reads the row once). The decisions are this caller's, for this call.
   */
  async decisionsOn(
    credentials: BackstageCredentials,
    permissions: Array<ResourcePermission<typeof PAVED_TENANT_RESOURCE_TYPE>>,
    name: string,
  ): Promise<(tenant: TenantRecord) => boolean[]> {
    const scope = this.scopeOf(credentials);
    const inScope = permissions.map(
      permission =>
        !scope ||
        (scope.actions.includes(permission.attributes.action ?? 'update') &&
          (scope.tenants === '*' || scope.tenants.includes(name))),
    );
    const asked = permissions.filter((_, i) => inScope[i]);
    if (asked.length === 0) return () => inScope;
    const decisions = await this.permissions.authorizeConditional(
      asked.map(permission => ({ permission })),
      { credentials },
    );
    return tenant => {
      if (tenant.name !== name) {
        throw new Error(`Decisions for tenant ${name} asked of ${tenant.name}`);
      }
      let next = 0;
      return inScope.map(fits => {
        if (!fits) return false;
        const decision = decisions[next++];
        if (decision.result === AuthorizeResult.CONDITIONAL) {
          return this.authorizeConditions(decision, tenant);
        }
        return decision.result === AuthorizeResult.ALLOW;
      });
    };
  }

  /** The 403 for a caller who may read `tenant` but not do this. */
  refusal(
    permission: ResourcePermission<typeof PAVED_TENANT_RESOURCE_TYPE>,
    tenant: TenantRecord,
  ): NotAllowedError {
    return new NotAllowedError(
      `You may not ${permission.attributes.action ?? 'change'} ${
        permission.name.startsWith('paved.app') ? 'apps of ' : ''
      }tenant ${tenant.name}: you lack the permission ${
        permission.name
      }; ask a member of its owner group or the platform team`,
    );
  }

  /**
   * Loads a live tenant the caller may act on with `permission`. A tenant
   * the caller may not read answers exactly as one that does not exist
   * (NotFoundError, same message), so no route confirms another team's
   * names; a caller who may read it but not do this gets NotAllowedError
   * naming the permission.
   */
  async require(
    credentials: BackstageCredentials,
    permission: ResourcePermission<typeof PAVED_TENANT_RESOURCE_TYPE>,
    name: string,
  ): Promise<TenantRecord> {
    // A token Paved has no scope for is refused before the lookup, so its
    // answer is the same for every name.
    this.scopeOf(credentials);
    const tenant = await this.store.getTenant(name);
    if (!tenant || tenant.deleting) throw tenantNotFound(name);
    await this.requireOn(credentials, permission, tenant);
    return tenant;
  }

  /** As {@link TenantAccess.require}, for a tenant already loaded. */
  async requireOn(
    credentials: BackstageCredentials,
    permission: ResourcePermission<typeof PAVED_TENANT_RESOURCE_TYPE>,
    tenant: TenantRecord,
  ): Promise<void> {
    if (await this.allowed(credentials, permission, tenant)) return;
    if (
      permission.name === tenantReadPermission.name ||
      !(await this.allowed(credentials, tenantReadPermission, tenant))
    ) {
      throw tenantNotFound(tenant.name);
    }
    throw this.refusal(permission, tenant);
  }

  async requireBasic(
    credentials: BackstageCredentials,
    permission: BasicPermission,
    message = `You lack the permission ${permission.name}`,
  ): Promise<void> {
    const scope = this.scopeOf(credentials);
    const action = permission.attributes.action ?? 'update';
    if (scope) {
      // Creating a tenant is checked again against its name (allowed());
      // anything else basic is a platform permission: admin tokens only.
      const fits =
        permission.name === tenantCreatePermission.name
          ? scope.actions.includes('create')
          : scope.tenants === '*' && scope.actions.includes(action);
      if (!fits) {
        throw new NotAllowedError(
          `${message} (service token "${scope.subject}": its paved.serviceAccess scope does not cover this)`,
        );
      }
    }
    const [decision] = await this.permissions.authorize([{ permission }], {
      credentials,
    });
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(message);
    }
  }
}
