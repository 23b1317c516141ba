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
  tenantReadPermission,
} from '@paved/plugin-paved-common';
import type {
  PavedStore,
  TenantFilter,
  TenantRecord,
} from '../database/PavedStore';
import { tenantResourceRef } from './rules';

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
  ) {
    const ruleset = registry.getPermissionRuleset(tenantResourceRef);
    this.authorizeConditions = createConditionAuthorizer(ruleset);
    this.toQuery = createConditionTransformer(ruleset);
  }

  /** The filter for listing tenants (and their apps); undefined means all. */
  async readFilter(
    credentials: BackstageCredentials,
  ): Promise<TenantFilter | undefined> {
    const [decision] = await this.permissions.authorizeConditional(
      [{ permission: tenantReadPermission }],
      { credentials },
    );
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
    const [decision] = await this.permissions.authorizeConditional(
      [{ permission }],
      { credentials },
    );
    if (decision.result === AuthorizeResult.CONDITIONAL) {
      return this.authorizeConditions(decision, tenant);
    }
    return decision.result === AuthorizeResult.ALLOW;
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
    throw new NotAllowedError(
      `You may not ${permission.attributes.action ?? 'change'} ${
        permission.name.startsWith('paved.app') ? 'apps of ' : ''
      }tenant ${tenant.name}: you lack the permission ${
        permission.name
      }; ask a member of its owner group or the platform team`,
    );
  }

  async requireBasic(
    credentials: BackstageCredentials,
    permission: BasicPermission,
    message = `You lack the permission ${permission.name}`,
  ): Promise<void> {
    const [decision] = await this.permissions.authorize([{ permission }], {
      credentials,
    });
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(message);
    }
  }
}
