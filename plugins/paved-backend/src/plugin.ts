import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { resolvePlans } from '@paved/plugin-paved-common';
import { ClusterSync } from './cluster/ClusterSync';
import { AppChanges } from './services/appChanges';
import { StatusSignals } from './services/statusSignals';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { metricsServiceRef } from '@backstage/backend-plugin-api/alpha';
import { PavedMetrics } from './service/metrics';
import { connectToCluster } from './cluster/connect';
import { StatusCache } from './cluster/StatusCache';
import { DatabasePavedStore } from './database/DatabasePavedStore';
import { SecretBox } from './database/SecretBox';
import {
  describeReencrypt,
  reencryptSecrets,
} from './database/reencryptSecrets';
import { TenantAccess } from './permissions/TenantAccess';
import { pavedTenantRules, tenantResourceRef } from '@paved/plugin-paved-node';
import { allPavedPermissions } from '@paved/plugin-paved-node';
import { createRouter } from './service/router';
import { readServiceAccess } from './permissions/serviceAccess';
import { DEFAULT_RATE_LIMIT, RateLimitOptions } from './service/rateLimit';
import type { Config } from '@backstage/config';

/** `paved.rateLimit`: writes per identity and window. */
function readRateLimit(config: Config): RateLimitOptions {
  const limits = config.getOptionalConfig('paved.rateLimit');
  return {
    limit: limits?.getOptionalNumber('writes') ?? DEFAULT_RATE_LIMIT.limit,
    windowSeconds:
      limits?.getOptionalNumber('windowSeconds') ??
      DEFAULT_RATE_LIMIT.windowSeconds,
  };
}

/**
 * The Paved backend plugin: tenants and apps saved in the Backstage
 * database, applied to the cluster as Tenant and App custom resources, with
 * status merged from a watch-fed cache. Mounted at `/api/paved`.
 *
 * @public
 */
export const pavedPlugin = createBackendPlugin({
  pluginId: 'paved',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auditor: coreServices.auditor,
        signals: signalsServiceRef,
        metricsService: metricsServiceRef,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        scheduler: coreServices.scheduler,
        lifecycle: coreServices.lifecycle,
      },
      async init({
        config,
        logger,
        database,
        httpRouter,
        httpAuth,
        auditor,
        signals,
        metricsService,
        permissions,
        permissionsRegistry,
        scheduler,
        lifecycle,
      }) {
        let plans = resolvePlans(config.getOptional('paved.plans'));
        // A changed paved.plans reaches existing tenants with the next full
        // sync (their Tenant CRs carry the limits), without a restart where
        // the config is watched.
        config.subscribe?.(() => {
          try {
            plans = resolvePlans(config.getOptional('paved.plans'));
          } catch (error) {
            logger.error(`Ignoring the changed paved.plans: ${error}`);
          }
        });
        const metrics = new PavedMetrics(metricsService);
        const namespacePrefix = config.getOptionalString(
          'paved.namespacePrefix',
        );
        // paved.secrets.keys (the first encrypts, all decrypt) and/or the
        // single paved.secrets.encryptionKey (key id "default").
        const secretBox = SecretBox.fromConfig(config);
        const store = await DatabasePavedStore.create({
          database,
          secretBox,
        });
        if (secretBox) {
          // Key rotation: every stored secret not under the current key is
          // rewritten under it. Idempotent; a row no key decrypts is kept
          // and reported, and never stops the backend from starting.
          try {
            const result = await reencryptSecrets(
              await database.getClient(),
              secretBox,
            );
            const line = describeReencrypt(result, secretBox.currentKeyId);
            if (result.failed.length) logger.warn(line);
            else logger.info(line);
          } catch (error) {
            logger.warn(`Re-encrypting secret env values failed: ${error}`);
          }
        }

        permissionsRegistry.addResourceType({
          resourceRef: tenantResourceRef,
          permissions: allPavedPermissions,
          rules: Object.values(pavedTenantRules),
          // One query for every tenant a permission check names.
          getResources: async refs => store.getTenants(refs),
        });
        permissionsRegistry.addPermissions(allPavedPermissions);

        const client = await connectToCluster({
          kubeconfigPath: config.getOptionalString(
            'paved.kubernetes.kubeconfig',
          ),
          inCluster: config.getOptionalBoolean('paved.kubernetes.inCluster'),
        });
        if (client) {
          logger.info(`Applying Tenants and Apps to ${client.serverUrl}`);
        } else {
          logger.warn(
            'No cluster configured (paved.kubernetes or KUBECONFIG): writes are saved and wait for a cluster; status is unknown',
          );
        }

        // Wakes the long polls of app reads (GET …/apps/{app} with
        // Prefer: wait) when an app's CR or its row's sync state changes.
        const appChanges = new AppChanges();
        const sync = new ClusterSync({
          store,
          client,
          plans: () => plans,
          namespacePrefix,
          logger,
          onAppSynced: (tenant, app) => appChanges.notify(tenant, app),
        });
        const cache = client ? new StatusCache(client, logger) : undefined;
        if (cache) {
          // Deleted or hand-edited CRs are put back from the database; a
          // tenant whose phase changed is synced with its apps.
          cache.onChange(change => sync.handleChange(change));
          cache.onChange(change => {
            if (change.kind === 'app') {
              appChanges.notify(change.tenant, change.name);
            }
          });
          // Open pages refresh at the change (Backstage signals).
          const statusSignals = new StatusSignals({
            signals,
            cache,
            admins: () =>
              config.getOptionalStringArray('paved.permissions.admins') ?? [],
            logger,
            onPublished: kind => metrics.signalPublished(kind),
          });
          cache.onChange(change => statusSignals.handle(change));
          lifecycle.addStartupHook(() => cache.start());
          lifecycle.addShutdownHook(async () => {
            await cache.stop();
            await sync.close();
            client?.close();
          });
        }

        const frequencySeconds =
          config.getOptionalNumber('paved.sync.frequencySeconds') ?? 15;
        await scheduler.scheduleTask({
          id: 'paved-cluster-sync',
          frequency: { seconds: frequencySeconds },
          timeout: { minutes: 5 },
          initialDelay: { seconds: Math.min(frequencySeconds, 5) },
          fn: async () => {
            if (!sync.configured) return;
            let outcome;
            try {
              outcome = await sync.syncAll();
            } catch (error) {
              metrics.syncRan('error');
              throw error;
            }
            metrics.syncRan(outcome);
            const { applied, behind, repaired, unknown } = outcome;
            if (applied || behind || repaired) {
              logger.info(
                `Cluster sync: ${applied} applied, ${behind} still behind, ${repaired} re-applied after drift${
                  unknown ? `, ${unknown} unknown CRs left alone` : ''
                }`,
              );
            }
          },
        });

        httpRouter.use(
          await createRouter({
            store,
            access: new TenantAccess(
              permissions,
              permissionsRegistry,
              store,
              readServiceAccess(config),
            ),
            httpAuth,
            auditor,
            sync,
            cache,
            appChanges,
            kube: client,
            plans: () => plans,
            namespacePrefix,
            logger,
            database: await database.getClient(),
            rateLimit: readRateLimit(config),
            metrics,
          }),
        );
        httpRouter.addAuthPolicy({
          path: '/openapi.json',
          allow: 'unauthenticated',
        });
        httpRouter.addAuthPolicy({ path: '/plans', allow: 'unauthenticated' });
      },
    });
  },
});
