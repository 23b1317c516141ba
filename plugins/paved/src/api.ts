import {
  ApiBlueprint,
  coreApis,
  createApiRef,
} from '@backstage/frontend-plugin-api';
import {
  PavedApiClient,
  PavedApiClientOptions,
} from '@paved/plugin-paved-common';

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
  | 'getAppEvents'
  | 'streamLogs'
  | 'listDeletedTenants'
  | 'listDeletedTenantAudit'
  | 'putDomain'
  | 'removeDomain'
>;

/**
 * The client as the UI uses it: it says `x-paved-client: ui`, so the audit
 * log records the UI as where a change came from.
 */
export function createPavedUiClient(
  options: Omit<PavedApiClientOptions, 'client'>,
): PavedApiClient {
  return new PavedApiClient({ ...options, client: 'ui' });
}

export const pavedApiRef = createApiRef<PavedApi>().with({
  id: 'plugin.paved.api',
  pluginId: 'paved',
});

/**
 * The client shared by every Paved component: Backstage's fetch (with the
 * user's token) to the paved backend, saying it is the UI.
 */
export const pavedApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: pavedApiRef,
      deps: { discoveryApi: coreApis.discovery, fetchApi: coreApis.fetch },
      factory: ({ discoveryApi, fetchApi }) =>
        createPavedUiClient({
          baseUrl: () => discoveryApi.getBaseUrl('paved'),
          fetch: fetchApi.fetch,
        }),
    }),
});
