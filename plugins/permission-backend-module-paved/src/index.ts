/**
 * Paved's permission policy, as a module of the permission backend
 * (`backend.add(import(...))`), and its parts for an app's own policy.
 *
 * @packageDocumentation
 */
export { permissionModulePavedPolicy as default } from './policy';
export type { PavedPolicyOptions } from './policy';
export {
  PavedPermissionPolicy,
  pavedTenantDecision,
  pavedCatalogDecision,
  pavedPolicyOptions,
  permissionModulePavedPolicy,
} from './policy';
