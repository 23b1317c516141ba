/**
 * Runs the operator: `yarn workspace @paved/operator start` locally (uses
 * KUBECONFIG or ~/.kube/config), or `node dist/main.js` in the image (uses the
 * in-cluster service account). Settings come from PAVED_* variables and
 * `--<setting>=<value>` flags (config.ts). SIGTERM and SIGINT stop it
 * gracefully.
 */
import { consoleLogger, defaultConnection } from '@paved/kube';
import { operatorOptions, settingsFromArgs } from './config';
import { Operator } from './operator';

async function main(): Promise<void> {
  // Flags (the chart's extraArgs) override the environment.
  const settings = settingsFromArgs(process.argv.slice(2));
  const logger = consoleLogger(settings.logLevel);
  const kubeConfig = defaultConnection();
  const operator = await Operator.create({
    kubeConfig,
    ...operatorOptions(settings),
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
