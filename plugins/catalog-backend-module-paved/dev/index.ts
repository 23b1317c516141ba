/**
 * Runs the catalog module alone (`yarn start` in this package): the catalog
 * backend, the Paved backend plugin whose apps it reads, and this module,
 * on SQLite in memory, with Backstage's development auth (requests without
 * a token act as a mock user; every permission is allowed). Without
 * KUBECONFIG no cluster is used: apps are saved and listed, their status is
 * unknown.
 *
 *   curl -X POST localhost:7007/api/paved/tenants -H 'content-type: application/json' \
 *     -d '{"name":"dev","displayName":"Dev","owner":"group:default/team-a"}'
 *   curl -X PUT localhost:7007/api/paved/tenants/dev/apps/web -H 'content-type: application/json' \
 *     -d '{"image":"ghcr.io/acme/web:1.0.0"}'
 *   curl localhost:7007/api/catalog/entities/by-name/component/default/dev-web
 */
import { createBackend } from '@backstage/backend-defaults';
import { developmentAuthServices } from '@paved/plugin-paved-backend/testUtils';

const backend = createBackend();

for (const service of developmentAuthServices()) backend.add(service);

backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@paved/plugin-paved-backend'));
backend.add(import('../src'));

backend.start();
