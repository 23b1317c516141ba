import { createPermission } from '@backstage/plugin-permission-common';
import { pavedPermissions } from '@paved/plugin-paved-common';

/**
 * Setting `limits` on a tenant (at creation or later) overrides what its plan
 * gives, so it is a platform decision, not the tenant owner's: Paved's default
 * policy grants it to admins only (and Backstage allows service principals).
 *
 * Registered by the backend plugin together with paved-common's
 * `pavedPermissions`.
 */
export const tenantLimitsOverridePermission = createPermission({
  name: 'paved.tenant.limits.override',
  attributes: { action: 'update' },
});

/**
 * Turning a tenant's network isolation off (creating it without, or
 * switching it off later) opens its pods to every other tenant: a platform
 * decision. Turning it on is the owner's to make.
 */
export const tenantIsolationDisablePermission = createPermission({
  name: 'paved.tenant.isolation.disable',
  attributes: { action: 'update' },
});

/** Moving an existing tenant to another plan changes what it may consume. */
export const tenantPlanChangePermission = createPermission({
  name: 'paved.tenant.plan.change',
  attributes: { action: 'update' },
});

/** The permissions Paved's default policy grants to admins only. */
export const platformPermissions = [
  tenantLimitsOverridePermission,
  tenantIsolationDisablePermission,
  tenantPlanChangePermission,
];

/** Every permission the backend checks. */
export const allPavedPermissions = [
  ...pavedPermissions,
  ...platformPermissions,
];
