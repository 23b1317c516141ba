import { mockServices } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';

/**
 * Backstage's development auth for the `dev/` entry points of Paved's
 * packages: a request without a token is the mock user, and every
 * permission is allowed (no permission backend runs there). Never in a real
 * backend.
 */
export function developmentAuthServices() {
  return [
    mockServices.auth.factory(),
    mockServices.httpAuth.factory(),
    mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
  ];
}
