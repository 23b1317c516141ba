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
import {
  KubeObject,
  ObjectList,
  ResourceType,
  resourcePath,
} from './resources';

/** An error answered by the API server (or the connection to it). */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.code === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof KubeApiError && error.code === 409;
}

export function isGone(error: unknown): boolean {
  return error instanceof KubeApiError && error.code === 410;
}

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
}

interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
}

const CREDENTIAL_REFRESH_MS = 60_000;

export class KubeClient {
  private readonly server: URL;
  private readonly agent: http.Agent;
  private headers: Record<string, string> = {};
  private headersAt = 0;
  /** Told of each request (method and resource path), for metrics. */
  onRequest?: (method: string, path: string) => void;

  static async fromKubeConfig(
    source: KubeConnection | KubeConfigLike,
    options: { maxSockets?: number } = {},
  ): Promise<KubeClient> {
    const connection = toConnection(source);
    const server = new URL(connection.server);
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? 64,
    };
    const agent =
      server.protocol === 'https:'
        ? new https.Agent({
            ...agentOptions,
            ca: connection.ca,
            cert: connection.cert,
            key: connection.key,
            rejectUnauthorized: !connection.skipTLSVerify,
            servername: connection.tlsServerName,
          })
        : new http.Agent(agentOptions);
    return new KubeClient(connection, server, agent);
  }

  private constructor(
    private readonly connection: KubeConnection,
    server: URL,
    agent: http.Agent,
  ) {
    this.server = server;
    this.agent = agent;
  }

  /** Closes pooled connections; in-flight watches end with an error. */
  close(): void {
    this.agent.destroy();
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
  async discover(
    groupVersion: string,
  ): Promise<{ resources: Array<{ name: string; kind: string }> } | undefined> {
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
    const headers = await this.authHeaders();
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
        agent: this.agent,
        headers: { ...headers, Accept: 'application/json' },
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

  async request<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<T> {
    const headers: Record<string, string> = {
      ...(await this.authHeaders()),
      Accept: 'application/json',
    };
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const url = this.url(path, options.query);
    this.onRequest?.(method, path);
    return new Promise<T>((resolve, reject) => {
      const req = this.transport(url).request(url, {
        method,
        agent: this.agent,
        headers,
        timeout: 60_000,
      });
      req.on('timeout', () =>
        req.destroy(new KubeApiError(0, `${method} ${path} timed out`)),
      );
      req.on('error', reject);
      req.on('response', res => {
        readBody(res)
          .then(text => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) {
              resolve((text ? JSON.parse(text) : undefined) as T);
            } else {
              reject(apiError(code, text, `${method} ${path}`));
            }
          })
          .catch(reject);
      });
      req.end(payload);
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
    const chunks: Buffer[] = [];
    res.on('data', chunk => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function apiError(code: number, text: string, what?: string): KubeApiError {
  try {
    const status = JSON.parse(text);
    return new KubeApiError(
      code,
      `${what ? `${what}: ` : ''}${status.message ?? text}`,
      status.reason,
    );
  } catch {
    return new KubeApiError(code, `${what ? `${what}: ` : ''}${text}`);
  }
}
