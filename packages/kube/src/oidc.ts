/**
 * The kubeconfig `oidc` auth-provider (`users[].user.auth-provider`, still
 * supported by client-go's `plugin/pkg/client/auth/oidc`): `config.id-token`
 * is sent as the bearer token; when it has expired (its JWT `exp` is past,
 * or the API server answers 401) it is refreshed with `config.refresh-token`
 * at the issuer's token endpoint (OpenID discovery, grant_type
 * refresh_token). New tokens are kept in memory only: the kubeconfig file is
 * not written.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import fs from 'node:fs';
import path from 'node:path';

export interface OidcConfig {
  idToken?: string;
  refreshToken?: string;
  issuerUrl?: string;
  clientId?: string;
  clientSecret?: string;
  /** The issuer's CA (`idp-certificate-authority(-data)`). */
  issuerCa?: Buffer;
}

/** A token this close to its `exp` is refreshed before use. */
export const OIDC_REFRESH_BEFORE_MS = 10_000;
const TIMEOUT_MS = 30_000;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks an `auth-provider: {name: oidc, config}`; throws naming the field to fix. */
export function parseOidcConfig(
  config: unknown,
  where: string,
  baseDir: string,
): OidcConfig {
  const c = isRecord(config) ? config : {};
  const str = (key: string) => {
    const v = c[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') {
      throw new Error(
        `${where}: auth-provider oidc config.${key} must be a string`,
      );
    }
    return v;
  };
  const caData = str('idp-certificate-authority-data');
  const caFile = str('idp-certificate-authority');
  let issuerCa: Buffer | undefined;
  if (caData) issuerCa = Buffer.from(caData, 'base64');
  else if (caFile) issuerCa = fs.readFileSync(path.resolve(baseDir, caFile));
  const parsed: OidcConfig = {
    idToken: str('id-token'),
    refreshToken: str('refresh-token'),
    issuerUrl: str('idp-issuer-url'),
    clientId: str('client-id'),
    clientSecret: str('client-secret'),
    issuerCa,
  };
  if (!parsed.idToken && !parsed.refreshToken) {
    throw new Error(
      `${where} uses the auth-provider "oidc" with neither config.id-token nor config.refresh-token: log in again (kubectl oidc-login) or switch the user to the exec plugin kubelogin (https://github.com/int128/kubelogin: kubectl oidc-login)`,
    );
  }
  return parsed;
}

/** The JWT's `exp` in ms since the epoch, or undefined when it is not a JWT with one. */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(
      Buffer.from(parts[1], 'base64url').toString('utf8'),
    );
    return isRecord(payload) && typeof payload.exp === 'number'
      ? payload.exp * 1000
      : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a token must be refreshed before use (its JWT `exp` is past or near). */
export function isExpired(token: string, now: number = Date.now()): boolean {
  const exp = jwtExpiry(token);
  return exp !== undefined && exp - OIDC_REFRESH_BEFORE_MS <= now;
}

export class OidcTokenProvider {
  private idToken?: string;
  private refreshToken?: string;
  /** The last id-token the API server refused, for the error message. */
  private rejected?: string;
  private refreshing?: Promise<string>;
  /** How many refreshes reached the issuer (for tests and metrics). */
  refreshes = 0;

  constructor(private readonly config: OidcConfig) {
    this.idToken = config.idToken;
    this.refreshToken = config.refreshToken;
  }

  /** The id-token to send, refreshed first when it is missing or expired. */
  async get(): Promise<string> {
    if (this.idToken && !isExpired(this.idToken)) return this.idToken;
    return this.refresh(this.idToken ?? this.rejected);
  }

  /** The API server refused `rejected` (401): the next get() refreshes. */
  invalidate(rejected: string): void {
    if (this.idToken !== rejected) return;
    this.idToken = undefined;
    this.rejected = rejected;
  }

  private refresh(stale: string | undefined): Promise<string> {
    if (!this.refreshing) {
      this.refreshing = this.refreshOnce(stale).finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  private async refreshOnce(stale: string | undefined): Promise<string> {
    const { issuerUrl, clientId, clientSecret } = this.config;
    const why = stale ? 'expired' : 'is missing';
    if (!this.refreshToken) {
      throw new Error(
        `the oidc id-token ${why} and has no refresh-token: log in again with kubectl oidc-login or switch to an exec plugin (kubelogin)`,
      );
    }
    const missing = [
      issuerUrl ? undefined : 'idp-issuer-url',
      clientId ? undefined : 'client-id',
    ].filter(Boolean);
    if (missing.length > 0) {
      throw new Error(
        `the oidc id-token ${why} and cannot be refreshed: the auth-provider config has no ${missing.join(
          ' or ',
        )}; add it, or log in again with kubectl oidc-login`,
      );
    }
    const discoveryUrl = `${issuerUrl!.replace(
      /\/$/,
      '',
    )}/.well-known/openid-configuration`;
    const discovery = await this.send(discoveryUrl, 'GET');
    const endpoint = isRecord(discovery) ? discovery.token_endpoint : undefined;
    if (typeof endpoint !== 'string') {
      throw new Error(
        `oidc issuer ${issuerUrl}: ${discoveryUrl} has no token_endpoint; check idp-issuer-url`,
      );
    }
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: this.refreshToken,
      client_id: clientId!,
    });
    if (clientSecret) form.set('client_secret', clientSecret);
    this.refreshes += 1;
    const answer = await this.send(endpoint, 'POST', form.toString());
    const idToken = isRecord(answer) ? answer.id_token : undefined;
    if (typeof idToken !== 'string' || !idToken) {
      throw new Error(
        `oidc issuer ${issuerUrl}: the token endpoint's answer has no id_token; log in again with kubectl oidc-login`,
      );
    }
    this.idToken = idToken;
    if (isRecord(answer) && typeof answer.refresh_token === 'string') {
      this.refreshToken = answer.refresh_token;
    }
    return idToken;
  }

  private send(url: string, method: string, form?: string): Promise<unknown> {
    const target = new URL(url);
    const transport = target.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(target, {
        method,
        timeout: TIMEOUT_MS,
        ca: this.config.issuerCa,
        headers: {
          Accept: 'application/json',
          ...(form
            ? {
                'Content-Type': 'application/x-www-form-urlencoded',
                'Content-Length': String(Buffer.byteLength(form)),
              }
            : {}),
        },
      });
      req.on('timeout', () =>
        req.destroy(new Error(`oidc issuer: ${method} ${url} timed out`)),
      );
      req.on('error', error =>
        reject(new Error(`oidc issuer: ${method} ${url}: ${error.message}`)),
      );
      req.on('response', res => {
        const chunks: Buffer[] = [];
        res.on('data', chunk => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
            reject(
              new Error(
                `oidc issuer: ${method} ${url} answered ${
                  res.statusCode
                }: ${text.slice(
                  0,
                  500,
                )}; the refresh-token may be revoked: log in again with kubectl oidc-login`,
              ),
            );
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(
              new Error(`oidc issuer: ${method} ${url} did not answer JSON`),
            );
          }
        });
      });
      req.end(form);
    });
  }
}
