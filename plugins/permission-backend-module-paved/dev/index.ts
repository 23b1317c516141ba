/**
 * Runs the permission backend with Paved's policy alone (`yarn start` in
 * this package), with Backstage's development auth: a request without a
 * token is the mock user `user:default/mock`; a mock user token
 * (`Bearer mock-user-token:{"sub":"user:default/alice"}`) names another.
 * Group membership is not looked up (no catalog): a user's claims are their
 * own ref, so put a user in `paved.permissions.admins` to see an admin's
 * decisions.
 *
 *   curl -X POST localhost:7007/api/permission/authorize -H 'content-type: application/json' \
 *     -d '{"items":[{"id":"1","permission":{"type":"basic","name":"paved.tenant.limits.override","attributes":{"action":"update"}}}]}'
 */
import { createBackend } from '@backstage/backend-defaults';
import { mockServices } from '@backstage/backend-test-utils';

const backend = createBackend();

backend.add(mockServices.auth.factory());
backend.add(mockServices.httpAuth.factory());
backend.add(mockServices.userInfo.factory());

backend.add(import('@backstage/plugin-permission-backend'));
backend.add(import('../src'));

backend.start();
