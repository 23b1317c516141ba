/**
 * Signing in. What Backstage 1.55 offers a command-line tool, and what
 * `paved` uses of it (the README has the details):
 *
 * - a token given to it: a static service token
 *   (`backend.auth.externalAccess`, scoped by `paved.serviceAccess`) for
 *   CI, or any Backstage user token (`PAVED_TOKEN`, `paved login --token`);
 * - the guest sign-in provider, where the deployment enables it (the local
 *   stack): `GET /api/auth/guest/refresh` issues the guest's user token,
 *   which `paved` renews when it expires;
 * - Backstage's own CLI sign-in (`backstage-cli auth login`: OAuth with
 *   PKCE through the auth backend's Client ID Metadata Documents,
 *   `auth.clientIdMetadataDocuments.enabled`, and the app's consent page):
 *   its token works here through `PAVED_TOKEN=$(backstage-cli auth
 *   print-token)`.
 */
import { CliError, EXIT } from './errors';
import { StoredConfig } from './config';

export interface SignIn {
  token: string;
  method: 'token' | 'guest' | 'env';
  expiresAt?: string;
  identity?: string;
}

/**
 * Who a token says it is: the `sub` of a Backstage user token (a JWT), or
 * of the test backend's mock tokens; undefined for opaque static tokens.
 */
export function tokenIdentity(token: string): string | undefined {
  const mock = /^mock-user-token:(\{.*\})$/.exec(token);
  try {
    if (mock) return JSON.parse(mock[1]).sub;
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const payload = JSON.parse(
      Buffer.from(parts[1], 'base64url').toString('utf8'),
    );
    return typeof payload.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

/** Asks the guest sign-in provider for the guest user's token. */
export async function guestSignIn(
  url: string,
  doFetch: typeof fetch = fetch,
): Promise<SignIn> {
  const endpoint = `${url.replace(/\/$/, '')}/api/auth/guest/refresh`;
  let response: Response;
  try {
    response = await doFetch(endpoint, {
      headers: { 'x-requested-with': 'XMLHttpRequest' },
    });
  } catch (error) {
    throw new CliError(
      `Cannot reach the Paved backend at ${url}: ${
        (error as { cause?: Error }).cause?.message ?? (error as Error).message
      }`,
      EXIT.failure,
      'Is it running? Give its address with --url or PAVED_URL.',
    );
  }
  const body: any = await response.json().catch(() => undefined);
  const token: unknown = body?.backstageIdentity?.token;
  if (!response.ok || typeof token !== 'string') {
    throw new CliError(
      `This backend does not offer the guest sign-in (${endpoint} answered ${
        response.status
      }${body?.error?.message ? `: ${body.error.message}` : ''})`,
      EXIT.auth,
      'Sign in with a token instead: `paved login --token -` (a static token from backend.auth.externalAccess, or `backstage-cli auth print-token`).',
    );
  }
  const seconds = Number(body.backstageIdentity.expiresInSeconds);
  return {
    token,
    method: 'guest',
    identity: body.backstageIdentity.identity?.userEntityRef,
    expiresAt: Number.isFinite(seconds)
      ? new Date(Date.now() + seconds * 1000).toISOString()
      : undefined,
  };
}

/**
 * The token to send: PAVED_TOKEN, else the saved one (a guest token a
 * minute from expiry is renewed first, and saved through `save`).
 */
export async function currentSignIn(options: {
  env: NodeJS.ProcessEnv;
  config: StoredConfig;
  url: string;
  save(config: StoredConfig): void;
  doFetch?: typeof fetch;
}): Promise<SignIn | undefined> {
  const { env, config, url } = options;
  if (env.PAVED_TOKEN) {
    return {
      token: env.PAVED_TOKEN,
      method: 'env',
      identity: tokenIdentity(env.PAVED_TOKEN),
    };
  }
  const auth = config.auth;
  if (!auth || (config.url && config.url !== url)) return undefined;
  const expiring =
    auth.expiresAt && Date.parse(auth.expiresAt) - Date.now() < 60_000;
  if (auth.method === 'guest' && expiring) {
    const renewed = await guestSignIn(url, options.doFetch);
    options.save({
      ...config,
      auth: {
        method: 'guest',
        token: renewed.token,
        expiresAt: renewed.expiresAt,
        identity: renewed.identity,
      },
    });
    return renewed;
  }
  return {
    token: auth.token,
    method: auth.method,
    expiresAt: auth.expiresAt,
    identity: auth.identity,
  };
}
