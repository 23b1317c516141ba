/**
 * Paved's backend plugin (`/api/paved`), its catalog module and permission
 * helpers.
 *
 * @packageDocumentation
 */
export { pavedPlugin as default } from './plugin';
export { catalogModulePavedEntityProvider } from './catalog/module';
export { PavedEntityProvider } from './catalog/PavedEntityProvider';
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
export type { PavedPolicyOptions } from './permissions/policy';
export {
  PavedPermissionPolicy,
  pavedTenantDecision,
  pavedCatalogDecision,
  pavedPolicyOptions,
  permissionModulePavedPolicy,
} from './permissions/policy';
