import { createBackend } from '@backstage/backend-defaults';
import { catalogModulePavedEntityProvider } from '@paved/plugin-paved-backend';

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

// Paved: tenants and apps (/api/paved), and each app as a catalog Component.
backend.add(import('@paved/plugin-paved-backend'));
backend.add(catalogModulePavedEntityProvider);

backend.add(import('@backstage/plugin-permission-backend'));
backend.add(
  import('@backstage/plugin-permission-backend-module-allow-all-policy'),
);

backend.start();
