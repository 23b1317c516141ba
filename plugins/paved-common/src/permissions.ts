/**
 * Paved's permissions. Everything a user does to a tenant or its apps is
 * checked against the tenant (resource type `paved-tenant`, resource ref the
 * tenant name), so ownership is decided in one place: the tenant's owner group.
 */
import { createPermission } from '@backstage/plugin-permission-common';

export const PAVED_TENANT_RESOURCE_TYPE = 'paved-tenant';

export const tenantCreatePermission = createPermission({
  name: 'paved.tenant.create',
  attributes: { action: 'create' },
});

export const tenantReadPermission = createPermission({
  name: 'paved.tenant.read',
  attributes: { action: 'read' },
  resourceType: PAVED_TENANT_RESOURCE_TYPE,
});

export const tenantUpdatePermission = createPermission({
  name: 'paved.tenant.update',
  attributes: { action: 'update' },
  resourceType: PAVED_TENANT_RESOURCE_TYPE,
});

export const tenantDeletePermission = createPermission({
  name: 'paved.tenant.delete',
  attributes: { action: 'delete' },
  resourceType: PAVED_TENANT_RESOURCE_TYPE,
});

export const appDeployPermission = createPermission({
  name: 'paved.app.deploy',
  attributes: { action: 'create' },
  resourceType: PAVED_TENANT_RESOURCE_TYPE,
});

export const appUpdatePermission = createPermission({
  name: 'paved.app.update',
  attributes: { action: 'update' },
  resourceType: PAVED_TENANT_RESOURCE_TYPE,
});

export const appDeletePermission = createPermission({
  name: 'paved.app.delete',
  attributes: { action: 'delete' },
  resourceType: PAVED_TENANT_RESOURCE_TYPE,
});

export const pavedPermissions = [
  tenantCreatePermission,
  tenantReadPermission,
  tenantUpdatePermission,
  tenantDeletePermission,
  appDeployPermission,
  appUpdatePermission,
  appDeletePermission,
];
