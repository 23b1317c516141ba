import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));

backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));

backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));

backend.add(import('@backstage/plugin-scaffolder-backend'));
// Paved's actions: paved:tenant:create, paved:app:deploy, paved:app:delete, …
backend.add(import('@paved/plugin-scaffolder-backend-module-paved'));

// Paved: tenants and apps (/api/paved), and each app as a catalog Component.
backend.add(import('@paved/plugin-paved-backend'));
backend.add(import('@paved/plugin-catalog-backend-module-paved'));

// Live status: Paved publishes its status changes on signals, and the
// frontend's signals plugin listens (pages fall back to slow polling without).
backend.add(import('@backstage/plugin-signals-backend'));

backend.add(import('@backstage/plugin-permission-backend'));
// Paved's policy: members of a tenant's owner group act on the tenant and its
// apps; everything else is allowed (replace it with your own policy that
// calls pavedTenantDecision for Paved's permissions).
backend.add(import('@paved/plugin-permission-backend-module-paved'));

backend.start();
