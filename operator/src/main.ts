/**
 * Runs the operator: `yarn workspace @paved/operator start` locally (uses
 * KUBECONFIG or ~/.kube/config), or `node dist/main.js` in the image (uses the
 * in-cluster service account). SIGTERM and SIGINT stop it gracefully.
 */
import { consoleLogger, defaultConnection } from '@paved/kube';
import { settingsFromEnv } from './config';
import { Operator } from './operator';

async function main(): Promise<void> {
  const settings = settingsFromEnv();
  const logger = consoleLogger(settings.logLevel);
  const kubeConfig = defaultConnection();
  const operator = await Operator.create({
    kubeConfig,
    config: settings.desired,
    concurrency: settings.concurrency,
    leaderElection: settings.leaderElection,
    metricsPort: settings.metricsPort,
    metricsHost: settings.metricsHost,
    logger,
  });
  await operator.start();
  logger.info('paved operator started', {
    identity: operator.identity,
    metricsPort: operator.metricsPortBound,
    leaderElection: Boolean(settings.leaderElection),
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: stopping`);
    // A hung shutdown must not outlive the pod's grace period.
    setTimeout(() => process.exit(1), 25_000).unref();
    operator
      .stop()
      .then(() => process.exit(0))
      .catch(error => {
        logger.error(`shutdown failed: ${(error as Error).message}`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch(error => {
  process.stderr.write(`paved operator: ${(error as Error).message}\n`);
  process.exit(1);
});
