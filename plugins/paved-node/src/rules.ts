import {
  createConditionExports,
  createPermissionResourceRef,
  createPermissionRule,
} from '@backstage/plugin-permission-node';
import { PAVED_TENANT_RESOURCE_TYPE } from '@paved/plugin-paved-common';
import { z } from 'zod';

/** What a permission rule sees of a tenant: the backend hands it the whole tenant record. */
export interface PavedTenantResource {
  name: string;
  owner: string;
}

/** How a tenant condition runs as a database filter: by owner group, or by name. */
export type TenantQuery = { owners: string[] } | { names: string[] };

/** The `paved-tenant` resource: permissions on a tenant and its apps are checked against it. */
export const tenantResourceRef = createPermissionResourceRef<
  PavedTenantResource,
  TenantQuery
>().with({ pluginId: 'paved', resourceType: PAVED_TENANT_RESOURCE_TYPE });

/**
 * True when the tenant's owner group is one of `claims`, typically the
 * user's ownership entity refs (the user and the groups they belong to).
 * Runs as a database filter for lists.
 */
export const isTenantOwner = createPermissionRule({
  name: 'IS_TENANT_OWNER',
  description: "Allow when the tenant's owner is one of the given entity refs",
  resourceRef: tenantResourceRef,
  paramsSchema: z.object({
    claims: z
      .array(z.string())
      .describe('Entity refs of the user and the groups they belong to'),
  }),
  apply: (tenant, { claims }) => claims.includes(tenant.owner),
  toQuery: ({ claims }) => ({ owners: claims }),
});

export const pavedTenantRules = { isTenantOwner };

/** Condition factories for permission policies: `pavedTenantConditions.isTenantOwner({ claims })`. */
export const {
  conditions: pavedTenantConditions,
  createConditionalDecision: createPavedTenantConditionalDecision,
} = createConditionExports({
  resourceRef: tenantResourceRef,
  rules: pavedTenantRules,
});
