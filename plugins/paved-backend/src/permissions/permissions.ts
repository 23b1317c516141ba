import { createPermission } from '@backstage/plugin-permission-common';
import { pavedPermissions } from '@paved/plugin-paved-common';

/**
 * Setting `limits` on a tenant (at creation or later) overrides what its plan
 * gives, so it is a platform decision, not the tenant owner's: Paved's default
 * policy grants it to admins only (and Backstage allows service principals).
 *
 * Defined here rather than in paved-common's list, which this package may not
 * change; it is registered together with `pavedPermissions`.
 */
export const tenantLimitsOverridePermission = createPermission({
  name: 'paved.tenant.limits.override',
  attributes: { action: 'update' },
});

/** Every permission the backend checks. */
export const allPavedPermissions = [
  ...pavedPermissions,
  tenantLimitsOverridePermission,
];
