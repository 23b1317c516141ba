import {
  ApiBlueprint,
  createApiRef,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import { PavedApiClient } from '@paved/plugin-paved-common';

/** The Paved REST API, as the components use it. */
export type PavedApi = Pick<
  PavedApiClient,
  | 'listPlans'
  | 'listTenants'
  | 'getTenant'
  | 'listApps'
  | 'getApp'
  | 'patchEnv'
  | 'pauseApp'
  | 'resumeApp'
  | 'redeployApp'
  | 'rollbackApp'
  | 'deleteApp'
  | 'listRevisions'
  | 'listAudit'
>;

export const pavedApiRef = createApiRef<PavedApi>().with({
  id: 'plugin.paved.api',
  pluginId: 'paved',
});

/** The client shared by every Paved component: Backstage's fetch (with the user's token) to the paved backend. */
export const pavedApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: pavedApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new PavedApiClient({
          baseUrl: () => discoveryApi.getBaseUrl('paved'),
          fetch: fetchApi.fetch,
        }),
    }),
});
