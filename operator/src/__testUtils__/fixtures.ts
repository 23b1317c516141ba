/** Sample Tenants and Apps for the desired-state tests. */
import {
  AppResource,
  appSpecSchema,
  AppSpecInput,
  TenantResource,
  tenantSpecSchema,
  TenantSpecInput,
} from '@paved/plugin-paved-common';

export function tenantFixture(
  name = 'team-a',
  spec: Partial<TenantSpecInput> = {},
): TenantResource {
  return {
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'Tenant',
    metadata: { name, uid: 'tenant-uid', generation: 1 },
    spec: tenantSpecSchema.parse({
      displayName: 'Team A',
      owner: 'group:default/team-a',
      plan: 'free',
      ...spec,
    }),
  };
}

export function appFixture(
  name = 'web',
  spec: Partial<AppSpecInput> = {},
  namespace = 'tenant-team-a',
): AppResource {
  return {
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'App',
    metadata: { name, namespace, uid: 'app-uid', generation: 1 },
    spec: appSpecSchema.parse({ image: 'ghcr.io/acme/web:1.0.0', ...spec }),
  };
}
