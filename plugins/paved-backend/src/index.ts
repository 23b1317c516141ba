/**
 * Paved's backend plugin (`/api/paved`). What it shares with its modules (the
 * `paved-tenant` permission resource, its rule and conditions, the platform
 * permissions) is in `@paved/plugin-paved-node`; the catalog module is
 * `@paved/plugin-catalog-backend-module-paved`, the policy
 * `@paved/plugin-permission-backend-module-paved`.
 *
 * @packageDocumentation
 */
export { pavedPlugin as default } from './plugin';
export type { ServiceScope } from './permissions/serviceAccess';
