/**
 * Runs the scaffolder with Paved's actions alone (`yarn start` in this
 * package): the scaffolder and catalog backends, the Paved backend plugin
 * the actions call, and this module, on SQLite in memory, with Backstage's
 * development auth (requests without a token act as a mock user; every
 * permission is allowed). Without KUBECONFIG no cluster is used.
 *
 *   curl localhost:7007/api/scaffolder/v2/actions   # lists paved:tenant:create, paved:app:deploy, …
 */
import { createBackend } from '@backstage/backend-defaults';
import { developmentAuthServices } from '@paved/plugin-paved-backend/testUtils';

const backend = createBackend();

for (const service of developmentAuthServices()) backend.add(service);

backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(import('@paved/plugin-paved-backend'));
backend.add(import('../src'));

backend.start();
