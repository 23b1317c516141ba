/**
 * Runs the Paved backend plugin alone (`yarn start` in this package) on
 * SQLite, with Backstage's development auth: requests without a token act as a mock
 * user and every permission is allowed. Set KUBECONFIG (or paved.kubernetes.kubeconfig in
 * an app-config) to apply to a cluster, e.g. one from `yarn cluster up`.
 */
import { createBackend } from '@backstage/backend-defaults';
import { developmentAuthServices } from '../src/testUtils';

const backend = createBackend();

for (const service of developmentAuthServices()) backend.add(service);

backend.add(import('../src'));

backend.start();
