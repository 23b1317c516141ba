/**
 * A small REST client for the Kubernetes API over one keep-alive agent.
 *
 * Every call (lists, server-side apply, the status subresource, watches with
 * a stall timeout) goes through one path with one connection pool and one
 * error type. Credentials come from ./kubeconfig.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { createInterface } from 'node:readline';
import fs from 'node:fs/promises';
import { FIELD_MANAGER_OPERATOR } from '@paved/plugin-paved-common';
import { KubeConfigLike, KubeConnection, toConnection } from './kubeconfig';
import { ExecCredential, ExecCredentialProvider } from './exec';
import { apiError, isNotFound, KubeApiError } from './errors';
import { createAgent } from './proxy';
import { OidcTokenProvider } from './oidc';
import {
  KubeObject,
  ObjectList,
  ResourceType,
  resourcePath,
} from './resources';

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

export interface WatchOptions {
  resourceVersion: string;
  labelSelector?: string;
  /** Asks the server to end the watch after this long. */
  timeoutSeconds: number;
  /** Ends the watch with an error when nothing arrives for this long. */
  stallTimeoutMs: number;
  signal: AbortSignal;
  onEvent: (event: WatchEvent) => void;
  /** Told once the server has accepted the watch (HTTP 200). */
  onOpen?: () => void;
}

interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
}

const CREDENTIAL_REFRESH_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 60_000;

/** What one request authenticates with. */
interface Auth {
  headers: Record<string, string>;
  agent: http.Agent;
  /** Set when an exec plugin gave the credential (a 401 drops it). */
  exec?: ExecCredential;
  /** Set when the oidc auth-provider gave the token (a 401 refreshes it). */
  oidc?: string;
}

export class KubeClient {
  private readonly server: URL;
  private readonly agent: http.Agent;
  private headers: Record<string, string> = {};
  private headersAt = 0;
  private readonly exec?: ExecCredentialProvider;
  private readonly oidc?: OidcTokenProvider;
  /** The agent for an exec plugin's client certificate, and that credential. */
  private execAgent?: { agent: http.Agent; credential: ExecCredential };
  private readonly agentOptions: https.AgentOptions;
  /** Told of each request (method and resource path), for metrics. */
  onRequest?: (method: string, path: string) => void;
  /**
   * Told of each request's outcome, for metrics: the HTTP status, or
   * `<error>` when no answer came (client-go's `rest_client_requests_total`).
   */
  onResponse?: (method: string, code: string) => void;

  static async fromKubeConfig(
    source: KubeConnection | KubeConfigLike,
    options: {
      maxSockets?: number;
      /** A request with no answer for this long fails (code 0); 60 s by default. */
      timeoutMs?: number;
    } = {},
  ): Promise<KubeClient> {
    const connection = toConnection(source);
    const server = new URL(connection.server);
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? 64,
    };
    const tlsOptions: https.AgentOptions = {
      ...agentOptions,
      ca: connection.ca,
      rejectUnauthorized: !connection.skipTLSVerify,
      servername: connection.tlsServerName,
    };
    const agent = createAgent(
      server,
      { ...tlsOptions, cert: connection.cert, key: connection.key },
      connection.proxyUrl,
    );
    return new KubeClient(
      connection,
      server,
      agent,
      tlsOptions,
      options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
  }

  private constructor(
    private readonly connection: KubeConnection,
    server: URL,
    agent: http.Agent,
    agentOptions: https.AgentOptions,
    private readonly timeoutMs: number,
  ) {
    this.server = server;
    this.agent = agent;
    this.agentOptions = agentOptions;
    if (connection.exec) {
      this.exec = new ExecCredentialProvider(connection.exec);
    }
    if (connection.oidc) {
      this.oidc = new OidcTokenProvider(connection.oidc);
    }
  }

  /** The API server's URL, e.g. `https://10.0.0.1:6443`. */
  get serverUrl(): string {
    return this.connection.server.replace(/\/$/, '');
  }

  /** Closes pooled connections; in-flight watches end with an error. */
  close(): void {
    this.agent.destroy();
    this.execAgent?.agent.destroy();
  }

  async list<T extends KubeObject>(
    type: ResourceType,
    options: {
      namespace?: string;
      labelSelector?: string;
      limit?: number;
      continue?: string;
      resourceVersion?: string;
    } = {},
  ): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>(
      'GET',
      resourcePath(type, options.namespace),
      {
        query: {
          labelSelector: options.labelSelector,
          limit: options.limit,
          continue: options.continue,
          resourceVersion: options.resourceVersion,
        },
      },
    );
  }

  async get<T extends KubeObject>(
    type: ResourceType,
    name: string,
    namespace?: string,
  ): Promise<T> {
    return this.request<T>('GET', resourcePath(type, namespace, name));
  }

  /** Like get, but undefined instead of a 404. */
  async tryGet<T extends KubeObject>(
    type: ResourceType,
    name: string,
    namespace?: string,
  ): Promise<T | undefined> {
    try {
      return await this.get<T>(type, name, namespace);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async create<T extends KubeObject>(type: ResourceType, body: T): Promise<T> {
    return this.request<T>(
      'POST',
      resourcePath(type, body.metadata.namespace),
      { body },
    );
  }

  /** PUT with the object's resourceVersion: fails with 409 if it changed. */
  async replace<T extends KubeObject>(type: ResourceType, body: T): Promise<T> {
    return this.request<T>(
      'PUT',
      resourcePath(type, body.metadata.namespace, body.metadata.name),
      { body },
    );
  }

  /** Server-side apply as `paved-operator`, taking over conflicting fields. */
  async apply<T extends KubeObject>(
    type: ResourceType,
    body: T,
    options: { subresource?: 'status'; fieldManager?: string } = {},
  ): Promise<T> {
    return this.request<T>(
      'PATCH',
      resourcePath(
        type,
        body.metadata.namespace,
        body.metadata.name,
        options.subresource,
      ),
      {
        query: {
          fieldManager: options.fieldManager ?? FIELD_MANAGER_OPERATOR,
          force: true,
        },
        body,
        contentType: 'application/apply-patch+yaml',
      },
    );
  }

  /** A JSON merge patch, e.g. to edit finalizers with a resourceVersion guard. */
  async mergePatch<T extends KubeObject>(
    type: ResourceType,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    subresource?: 'status',
  ): Promise<T> {
    return this.request<T>(
      'PATCH',
      resourcePath(type, namespace, name, subresource),
      { body: patch, contentType: 'application/merge-patch+json' },
    );
  }

  /** Deletes in the background; returns false when the object was already gone. */
  async delete(
    type: ResourceType,
    name: string,
    namespace?: string,
  ): Promise<boolean> {
    try {
      await this.request('DELETE', resourcePath(type, namespace, name), {
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          propagationPolicy: 'Background',
        },
      });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** The served resources of a group version, or undefined when not served. */
  async discover(groupVersion: string): Promise<
    | {
        resources: Array<{ name: string; kind: string; namespaced?: boolean }>;
      }
    | undefined
  > {
    const path = groupVersion.includes('/')
      ? `/apis/${groupVersion}`
      : `/api/${groupVersion}`;
    try {
      return await this.request('GET', path);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Streams one watch until the server ends it (resolves) or it fails
   * (rejects, with a 410 KubeApiError when the resourceVersion is too old).
   */
  async watch(type: ResourceType, options: WatchOptions): Promise<void> {
    // An already-aborted signal fires no 'abort' event: check it up front.
    if (options.signal.aborted) return;
    // A 401 before the stream opened: nothing was delivered, so retry.
    let opened = false;
    const tracked: WatchOptions = {
      ...options,
      onOpen: () => {
        opened = true;
        options.onOpen?.();
      },
    };
    await this.withAuth(
      auth => this.watchOnce(type, tracked, auth),
      () => !opened,
    );
  }

  private async watchOnce(
    type: ResourceType,
    options: WatchOptions,
    auth: Auth,
  ): Promise<void> {
    const url = this.url(resourcePath(type), {
      watch: true,
      allowWatchBookmarks: true,
      resourceVersion: options.resourceVersion,
      labelSelector: options.labelSelector,
      timeoutSeconds: options.timeoutSeconds,
    });
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let stallTimer: NodeJS.Timeout | undefined;
      const live: { req?: http.ClientRequest; onAbort?: () => void } = {};
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(stallTimer);
        if (live.onAbort) {
          options.signal.removeEventListener('abort', live.onAbort);
        }
        live.req?.destroy();
        if (error) reject(error);
        else resolve();
      };
      const armStallTimer = () => {
        clearTimeout(stallTimer);
        stallTimer = setTimeout(
          () =>
            finish(
              new KubeApiError(
                0,
                `watch of ${type.plural} stalled: nothing for ${options.stallTimeoutMs}ms`,
              ),
            ),
          options.stallTimeoutMs,
        );
      };
      if (options.signal.aborted) {
        resolve();
        return;
      }
      const onAbort = () => finish();
      live.onAbort = onAbort;
      const request = this.transport(url).request(url, {
        method: 'GET',
        agent: auth.agent,
        headers: { ...auth.headers, Accept: 'application/json' },
      });
      live.req = request;
      options.signal.addEventListener('abort', onAbort);
      armStallTimer();
      request.on('error', error => finish(error));
      request.on('response', res => {
        if (res.statusCode !== 200) {
          readBody(res)
            .then(text => finish(apiError(res.statusCode ?? 0, text)))
            .catch(finish);
          return;
        }
        options.onOpen?.();
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        lines.on('error', error => finish(error));
        lines.on('line', line => {
          armStallTimer();
          if (!line.trim()) return;
          let event: WatchEvent;
          try {
            event = JSON.parse(line);
          } catch {
            finish(new KubeApiError(0, `unparseable watch event: ${line}`));
            return;
          }
          if (event.type === 'ERROR') {
            const status = event.object as unknown as {
              code?: number;
              message?: string;
              reason?: string;
            };
            finish(
              new KubeApiError(
                status.code ?? 500,
                status.message ?? 'watch error',
                status.reason,
              ),
            );
            return;
          }
          try {
            options.onEvent(event);
          } catch (error) {
            finish(error as Error);
          }
        });
        res.on('error', error => finish(error));
        res.on('close', () => finish());
      });
      request.end();
    });
  }

  /**
   * GETs `path` and hands each line of the answer to `onLine` as it comes
   * (a pod's log with `follow=true`, say); resolves when the server ends
   * the answer or `signal` aborts, rejects with a KubeApiError for a
   * non-200 answer or a failed connection. No request timeout: a followed
   * log may stay quiet for hours.
   */
  async streamLines(
    path: string,
    options: {
      query?: Record<string, string | number | boolean | undefined>;
      signal: AbortSignal;
      onLine: (line: string) => void;
    },
  ): Promise<void> {
    if (options.signal.aborted) return;
    let opened = false;
    await this.withAuth(
      auth =>
        new Promise<void>((resolve, reject) => {
          const url = this.url(path, options.query);
          const request = this.transport(url).request(url, {
            method: 'GET',
            agent: auth.agent,
            headers: auth.headers,
          });
          let settled = false;
          const live: { onAbort?: () => void } = {};
          const finish = (error?: Error) => {
            if (settled) return;
            settled = true;
            options.signal.removeEventListener('abort', live.onAbort!);
            request.destroy();
            if (error) reject(error);
            else resolve();
          };
          live.onAbort = () => finish();
          options.signal.addEventListener('abort', live.onAbort);
          request.on('error', error =>
            finish(
              error instanceof KubeApiError
                ? error
                : new KubeApiError(0, error.message, undefined, {
                    method: 'GET',
                    path: path + url.search,
                    detail: error.message,
                  }),
            ),
          );
          request.on('response', res => {
            if (res.statusCode !== 200) {
              readBody(res)
                .then(text =>
                  finish(apiError(res.statusCode ?? 0, text, `GET ${path}`)),
                )
                .catch(finish);
              return;
            }
            opened = true;
            const lines = createInterface({ input: res, crlfDelay: Infinity });
            // An aborted answer errors the interface too ("aborted").
            lines.on('error', error => finish(error));
            lines.on('line', line => {
              try {
                options.onLine(line);
              } catch (error) {
                finish(error as Error);
              }
            });
            lines.on('close', () => finish());
            res.on('error', error => finish(error));
          });
          request.end();
        }),
      () => !opened,
    );
  }

  async request<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<T> {
    return this.withAuth(auth =>
      this.requestOnce<T>(method, path, options, auth),
    );
  }

  private async requestOnce<T>(
    method: string,
    path: string,
    options: RequestOptions,
    auth: Auth,
  ): Promise<T> {
    const headers: Record<string, string> = {
      ...auth.headers,
      Accept: 'application/json',
    };
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const url = this.url(path, options.query);
    const sent = { method, path: path + url.search };
    this.onRequest?.(method, path);
    return new Promise<T>((resolve, reject) => {
      const req = this.transport(url).request(url, {
        method,
        agent: auth.agent,
        headers,
        timeout: this.timeoutMs,
      });
      const onTimeout = () =>
        req.destroy(
          new KubeApiError(0, `${method} ${path} timed out`, undefined, {
            ...sent,
            detail: `no answer in ${this.timeoutMs}ms`,
          }),
        );
      // One error type: a connection failure is a KubeApiError with code 0
      // (and the connection's own message).
      let answered = false;
      const onError = (error: Error) => {
        if (!answered) this.onResponse?.(method, '<error>');
        reject(
          error instanceof KubeApiError
            ? error
            : new KubeApiError(0, error.message, undefined, {
                ...sent,
                detail: error.message,
              }),
        );
      };
      const onResponse = (res: http.IncomingMessage) => {
        answered = true;
        this.onResponse?.(method, String(res.statusCode ?? 0));
        readBody(res)
          .then(text => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) {
              resolve((text ? JSON.parse(text) : undefined) as T);
            } else {
              reject(apiError(code, text, `${method} ${path}`, sent));
            }
          })
          .catch(reject)
          .finally(() => letGo(req, { timeout: onTimeout, error: onError }));
      };
      req.on('timeout', onTimeout);
      req.on('error', onError);
      req.once('response', onResponse);
      req.end(payload);
    });
  }

  /**
   * The HTTP status of a GET, without reading the body (a readiness probe
   * such as `/readyz`, or whether a watch would be accepted); rejects on a
   * connection error or when no answer comes in `timeoutMs`.
   */
  async statusOf(
    path: string,
    options: {
      query?: Record<string, string | number | boolean | undefined>;
      timeoutMs?: number;
    } = {},
  ): Promise<number> {
    const first = await this.auth();
    const status = await this.statusOnce(path, options, first);
    if (status !== 401 || !this.dropRejected(first)) return status;
    return this.statusOnce(path, options, await this.auth());
  }

  private async statusOnce(
    path: string,
    options: {
      query?: Record<string, string | number | boolean | undefined>;
      timeoutMs?: number;
    },
    auth: Auth,
  ): Promise<number> {
    const url = this.url(path, options.query);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise<number>((resolve, reject) => {
      const req = this.transport(url).request(url, {
        method: 'GET',
        agent: auth.agent,
        headers: auth.headers,
        timeout: timeoutMs,
      });
      let answered = false;
      req.on('timeout', () =>
        req.destroy(
          new KubeApiError(0, `GET ${path}: no answer in ${timeoutMs}ms`),
        ),
      );
      req.on('error', error => {
        if (!answered) reject(error);
      });
      req.on('response', res => {
        answered = true;
        resolve(res.statusCode ?? 0);
        // A watch would stream on: the status is all that was asked.
        req.destroy();
      });
      req.end();
    });
  }

  private transport(url: URL): typeof https | typeof http {
    return url.protocol === 'https:' ? https : http;
  }

  private url(
    path: string,
    query: Record<string, string | number | boolean | undefined> = {},
  ): URL {
    const base = this.server.pathname.replace(/\/$/, '');
    const url = new URL(base + path, this.server);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  /**
   * Runs `once` with the current credentials; when an exec plugin's (or the
   * oidc auth-provider's) credential is answered with 401, drops it, runs
   * the plugin again (refreshes the id-token) and
   * retries once (client-go drops it too, and leaves the retry to callers).
   */
  private async withAuth<T>(
    once: (auth: Auth) => Promise<T>,
    mayRetry: () => boolean = () => true,
  ): Promise<T> {
    const first = await this.auth();
    try {
      return await once(first);
    } catch (error) {
      if (!(error instanceof KubeApiError && error.code === 401)) throw error;
      if (!mayRetry() || !this.dropRejected(first)) throw error;
      return once(await this.auth());
    }
  }

  /** Drops a refreshable credential the server refused; false when there is none. */
  private dropRejected(auth: Auth): boolean {
    if (auth.exec) {
      this.exec?.invalidate(auth.exec);
      return true;
    }
    if (auth.oidc) {
      this.oidc?.invalidate(auth.oidc);
      return true;
    }
    return false;
  }

  /** The oidc auth-provider's id-token as a bearer token. */
  private async oidcAuth(headers: Record<string, string>): Promise<Auth> {
    let token: string;
    try {
      token = await this.oidc!.get();
    } catch (error) {
      throw new KubeApiError(0, (error as Error).message);
    }
    return {
      headers: { ...headers, Authorization: `Bearer ${token}` },
      agent: this.agent,
      oidc: token,
    };
  }

  /** Headers and agent for one request: the static credentials, then an exec plugin's. */
  private async auth(): Promise<Auth> {
    const headers = await this.authHeaders();
    if (this.oidc) return this.oidcAuth(headers);
    if (!this.exec) return { headers, agent: this.agent };
    let credential: ExecCredential;
    try {
      credential = await this.exec.get();
    } catch (error) {
      // One error type for callers: no request was sent (code 0).
      throw new KubeApiError(0, (error as Error).message);
    }
    const withToken = credential.token
      ? { ...headers, Authorization: `Bearer ${credential.token}` }
      : headers;
    if (
      !credential.cert ||
      !credential.key ||
      this.server.protocol !== 'https:'
    ) {
      return { headers: withToken, agent: this.agent, exec: credential };
    }
    return {
      headers: withToken,
      agent: this.agentFor(credential),
      exec: credential,
    };
  }

  /**
   * An agent with the exec plugin's client certificate. A new certificate
   * gets a new agent and the old one's connections are closed (client-go's
   * connection rotation does the same).
   */
  private agentFor(credential: ExecCredential): http.Agent {
    const current = this.execAgent;
    if (
      current &&
      current.credential.cert?.equals(credential.cert!) &&
      current.credential.key?.equals(credential.key!)
    ) {
      return current.agent;
    }
    const agent = createAgent(
      this.server,
      { ...this.agentOptions, cert: credential.cert, key: credential.key },
      this.connection.proxyUrl,
    );
    this.execAgent = { agent, credential };
    current?.agent.destroy();
    return agent;
  }

  /** Bearer tokens rotate (projected service account tokens), so re-read them. */
  private async authHeaders(): Promise<Record<string, string>> {
    if (Date.now() - this.headersAt > CREDENTIAL_REFRESH_MS) {
      const { token, tokenFile, username, password } = this.connection;
      const headers: Record<string, string> = {};
      const bearer = tokenFile
        ? (await fs.readFile(tokenFile, 'utf8')).trim()
        : token;
      if (bearer) headers.Authorization = `Bearer ${bearer}`;
      else if (username !== undefined) {
        headers.Authorization = `Basic ${Buffer.from(
          `${username}:${password ?? ''}`,
        ).toString('base64')}`;
      }
      this.headers = headers;
      this.headersAt = Date.now();
    }
    return this.headers;
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    const onEnd = () => {
      const text = Buffer.concat(chunks).toString('utf8');
      chunks = [];
      letGo(res, { data: onData, end: onEnd, error: reject });
      resolve(text);
    };
    res.on('data', onData);
    res.on('end', onEnd);
    res.on('error', reject);
  });
}

/**
 * Node's https agent keeps the request that opened a keep-alive socket
 * reachable for as long as the socket lives (through the socket's TLS
 * session listener), and with the request its answer and every listener on
 * both. A settled call takes its listeners off, so the pool does not keep
 * each socket's first answer (a whole list, text and parsed) alive; a late
 * error is ignored rather than left without a listener.
 */
function letGo(
  emitter: NodeJS.EventEmitter,
  listeners: Record<string, (...args: any[]) => void>,
): void {
  for (const [event, listener] of Object.entries(listeners)) {
    emitter.off(event, listener);
  }
  emitter.on('error', ignoreLateError);
}

function ignoreLateError(): void {}
