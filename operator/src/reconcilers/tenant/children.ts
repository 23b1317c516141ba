/**
 * A Tenant's children, in reconcile order (deletion goes in reverse, as
 * DESIGN.md orders it: network policy, RBAC, quota and LimitRange, then the
 * namespace). Adding a child is one entry here.
 */
import { LABEL_TENANT, TenantResource } from '@paved/plugin-paved-common';
import { TENANTS } from '@paved/kube';
import { ChildRegistry } from '../children';
import { namespaceChild } from './namespace';
import { networkPolicyChild } from './networkPolicy';
import { limitRangeChild, resourceQuotaChild } from './quota';
import { rbacChild } from './rbac';

export const TENANT_CHILDREN: ChildRegistry<TenantResource, TenantResource> = {
  owner: TENANTS,
  ownerKey: child => child.metadata.labels?.[LABEL_TENANT],
  children: [
    namespaceChild,
    resourceQuotaChild,
    limitRangeChild,
    rbacChild,
    networkPolicyChild,
  ],
};
