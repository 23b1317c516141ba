import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import {
  createPavedAppDeleteAction,
  createPavedAppDeployAction,
  createPavedTenantCreateAction,
  createPavedTenantDeleteAction,
  pavedClientSource,
} from './actions';

/**
 * Registers Paved's scaffolder actions. They call the Paved backend's API on
 * behalf of the user who started the task, so permissions, validation, audit
 * and the no-drift guarantee apply to them as to the UI.
 */
export const scaffolderModulePaved = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'paved',
  register({ registerInit }) {
    registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        auth: coreServices.auth,
        discovery: coreServices.discovery,
      },
      async init({ scaffolder, auth, discovery }) {
        const clients = pavedClientSource({ auth, discovery });
        scaffolder.addActions(
          createPavedTenantCreateAction({ clients }),
          createPavedAppDeployAction({ clients }),
          createPavedAppDeleteAction({ clients }),
          createPavedTenantDeleteAction({ clients }),
        );
      },
    });
  },
});
