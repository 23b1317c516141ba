/**
 * Runs the Paved backend plugin alone (`yarn start` in this package) on
 * SQLite, with Backstage's development auth: requests without a token act as a mock
 * user and every permission is allowed. Set KUBECONFIG (or paved.kubernetes.kubeconfig in
 * an app-config) to apply to a cluster, e.g. one from `yarn cluster up`.
 */
import { createBackend } from '@backstage/backend-defaults';
import { mockServices } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';

const backend = createBackend();

// Development only: every request without a token is the mock user, and
// every permission is allowed (no permission backend runs here).
backend.add(mockServices.auth.factory());
backend.add(mockServices.httpAuth.factory());
backend.add(
  mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
);

backend.add(import('../src'));

backend.start();
