/**
 * What Paved's backend plugin shares with its modules, in Backstage's `-node`
 * form: the `paved-tenant` permission resource, the `isTenantOwner` rule
 * and its condition factories, and the platform permissions.
 *
 * @packageDocumentation
 */
export {
  isTenantOwner,
  pavedTenantRules,
  pavedTenantConditions,
  createPavedTenantConditionalDecision,
  tenantResourceRef,
} from './rules';
export type { PavedTenantResource, TenantQuery } from './rules';
export {
  tenantLimitsOverridePermission,
  tenantIsolationDisablePermission,
  tenantPlanChangePermission,
  platformPermissions,
  allPavedPermissions,
} from './permissions';
