/**
 * One backend replica, run as its own process by the harness (parts.ts): a
 * Backstage backend with the Paved plugin and Paved's policy on the
 * PostgreSQL database in PAVED_FAULTS_DATABASE_URL, applying to the cluster
 * in KUBECONFIG. Prints "paved backend replica listening on <port>".
 */
import knexFactory from 'knex';
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import { startPavedBackend } from '@paved/plugin-paved-backend/testUtils';

async function main() {
  const url = process.env.PAVED_FAULTS_DATABASE_URL;
  const kubeconfig = process.env.KUBECONFIG;
  if (!url || !kubeconfig) {
    throw new Error('PAVED_FAULTS_DATABASE_URL and KUBECONFIG are required');
  }
  const knex = knexFactory({
    client: 'pg',
    connection: url,
    pool: { min: 0, max: 10 },
  });
  const backend = await startPavedBackend({
    knex,
    config: {
      paved: {
        kubernetes: { kubeconfig },
        // Production's default period: the figures mean what they would there.
        sync: { frequencySeconds: 15 },
      },
    },
  });
  process.stdout.write(
    `paved backend replica listening on ${backend.server.address().port}\n`,
  );
}

main().catch(error => {
  process.stderr.write(`backend replica: ${(error as Error).stack}\n`);
  process.exit(1);
});
