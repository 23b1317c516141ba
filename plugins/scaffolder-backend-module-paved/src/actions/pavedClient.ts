import { AuthService, DiscoveryService } from '@backstage/backend-plugin-api';
import { ResponseError } from '@backstage/errors';
import { PavedApiClient } from '@paved/plugin-paved-common';

/** What an action needs to get a Paved API client for its task. */
export interface PavedClientSource {
  /**
   * A client that acts with the credentials of the user who started the
   * task, so the backend's permission checks apply to the action as to the UI.
   */
  forInitiator(ctx: {
    getInitiatorCredentials(): Promise<any>;
  }): Promise<PavedApiClient>;
}

export function pavedClientSource(options: {
  auth: AuthService;
  discovery: DiscoveryService;
  fetch?: typeof fetch;
}): PavedClientSource {
  const { auth, discovery } = options;
  return {
    async forInitiator(ctx) {
      const credentials = await ctx.getInitiatorCredentials();
      return new PavedApiClient({
        baseUrl: () => discovery.getBaseUrl('paved'),
        fetch: options.fetch,
        // The audit log says the change came from a template.
        client: 'template',
        token: async () =>
          (
            await auth.getPluginRequestToken({
              onBehalfOf: credentials,
              targetPluginId: 'paved',
            })
          ).token,
      });
    },
  };
}

/**
 * Rewords an API error for the task log: the backend's message already says
 * what to fix; this adds what the action was doing.
 */
export function describeApiError(doing: string, error: unknown): Error {
  if (error instanceof ResponseError) {
    const status = error.statusCode;
    const prefix =
      status === 403 || status === 404
        ? `${doing} was refused`
        : `${doing} failed`;
    return new Error(
      `${prefix} (${status} ${error.body.error.name}): ${error.body.error.message}`,
    );
  }
  return new Error(`${doing} failed: ${(error as Error)?.message ?? error}`);
}
