/**
 * Paved's backend plugin (`/api/paved`) and its permission rule and
 * permissions. The catalog module is
 * `@paved/plugin-catalog-backend-module-paved`, the policy
 * `@paved/plugin-permission-backend-module-paved`.
 *
 * @packageDocumentation
 */
export { pavedPlugin as default } from './plugin';
export {
  isTenantOwner,
  pavedTenantConditions,
  createPavedTenantConditionalDecision,
  tenantResourceRef,
} from './permissions/rules';
export {
  tenantLimitsOverridePermission,
  tenantIsolationDisablePermission,
  tenantPlanChangePermission,
  platformPermissions,
  allPavedPermissions,
} from './permissions/permissions';
export type { ServiceScope } from './permissions/serviceAccess';
