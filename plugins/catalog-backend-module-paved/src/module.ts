import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { PavedApiClient } from '@paved/plugin-paved-common';
import { PavedEntityProvider } from './PavedEntityProvider';

/**
 * Catalog module that adds {@link PavedEntityProvider}: each Paved app as a
 * Component, refreshed every `paved.catalog.frequencySeconds` (default 10).
 *
 * @public
 */
export const catalogModulePavedEntityProvider = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'paved-entity-provider',
  register(reg) {
    reg.registerInit({
      deps: {
        catalog: catalogProcessingExtensionPoint,
        config: coreServices.rootConfig,
        discovery: coreServices.discovery,
        auth: coreServices.auth,
        scheduler: coreServices.scheduler,
        logger: coreServices.logger,
      },
      async init({ catalog, config, discovery, auth, scheduler, logger }) {
        const client = new PavedApiClient({
          baseUrl: () => discovery.getBaseUrl('paved'),
          token: async () =>
            (
              await auth.getPluginRequestToken({
                onBehalfOf: await auth.getOwnServiceCredentials(),
                targetPluginId: 'paved',
              })
            ).token,
        });
        const provider = new PavedEntityProvider(client, logger);
        catalog.addEntityProvider(provider);
        const seconds =
          config.getOptionalNumber('paved.catalog.frequencySeconds') ?? 10;
        await scheduler.scheduleTask({
          id: 'paved-entity-provider',
          frequency: { seconds },
          timeout: { minutes: 2 },
          initialDelay: { seconds: Math.min(seconds, 3) },
          fn: async () => {
            await provider.refresh();
          },
        });
      },
    });
  },
});
