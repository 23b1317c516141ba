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

/**
 * Decides what a caller may do to tenants, and turns conditional decisions
 * into database filters for lists. Reads of a tenant the caller may not see
 * answer 404 (no hint of what it holds); writes the caller may not make
 * answer 403.
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
   * Loads a live tenant the caller may act on with `permission`, or throws
   * NotFoundError (missing or not visible) or NotAllowedError.
   */
  async require(
    credentials: BackstageCredentials,
    permission: ResourcePermission<typeof PAVED_TENANT_RESOURCE_TYPE>,
    name: string,
  ): Promise<TenantRecord> {
    const tenant = await this.store.getTenant(name);
    if (!tenant || tenant.deleting) {
      throw new NotFoundError(`Tenant ${name} not found`);
    }
    if (await this.allowed(credentials, permission, tenant)) return tenant;
    if (permission.name === tenantReadPermission.name) {
      throw new NotFoundError(`Tenant ${name} not found`);
    }
    throw new NotAllowedError(
      `You may not ${permission.attributes.action ?? 'change'} ${
        permission.name.startsWith('paved.app') ? 'apps of ' : ''
      }tenant ${name}; ask a member of its owner group`,
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
