/**
 * A small fetch-based client of the Paved REST API, usable from the
 * backend, the frontend and the scaffolder actions. A failed request throws
 * `ResponseError` from `@backstage/errors`: `statusCode`, and the server's
 * error (`cause.name`, `cause.message`, also in `body.error`).
 */
import { ResponseError } from '@backstage/errors';
import type {
  AppView,
  CreateTenantRequest,
  DeployAppRequest,
  ListResponse,
  PatchEnvRequest,
  PlanView,
  RevisionView,
  TenantView,
  UpdateTenantRequest,
  WriteOptions,
} from './api';
import {
  AppEvent,
  AuditEntryView,
  DeletedTenantView,
  PAVED_CLIENT_HEADER,
  Page,
  PageOptions,
  PavedClient,
} from './history';
import { LogStreamEvent, LogsQuery, readLogStream } from './logs';
import type { PutDomainRequest } from './domains';

export interface PavedApiClientOptions {
  /** Base URL of the plugin, e.g. `http://localhost:7007/api/paved`, or a function giving it. */
  baseUrl: string | (() => Promise<string>);
  /** The fetch to use: Backstage's fetchApi.fetch in the browser, global fetch elsewhere. */
  fetch?: typeof fetch;
  /** A bearer token (a service or user token), or a function giving one. */
  token?: string | (() => Promise<string | undefined>);
  /** Which client this is, for the audit log's `via` (the `x-paved-client` header). */
  client?: PavedClient;
}

const enc = encodeURIComponent;

/** The longest a read of an app may wait on the server for a change (`Prefer: wait`). */
export const MAX_APP_WAIT_SECONDS = 60;
/**
 * How long one read of a rollout's follower (the deploy action, the CLI)
 * waits on the server; a wait that ends with no change is asked again.
 */
export const APP_LONG_POLL_SECONDS = 20;

/** `?a=1&b=2` of the defined values, or ''. */
function queryString(values: object = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function generationQuery(options?: WriteOptions): string {
  return options?.expectedGeneration === undefined
    ? ''
    : `?expectedGeneration=${options.expectedGeneration}`;
}

/**
 * The HTTP status of an error the client threw, or undefined when it is not
 * an answer of the API (network error, bug).
 */
export function apiErrorStatus(error: unknown): number | undefined {
  return error instanceof ResponseError ? error.statusCode : undefined;
}

/**
 * What to tell a user about a failed call: the server's message, which says
 * what to fix, rather than ResponseError's "Request failed with 404".
 */
export function apiErrorMessage(error: unknown): string {
  if (error instanceof ResponseError) {
    return error.body.error?.message ?? error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** A typed client of the Paved REST API; needs nothing but fetch. */
export class PavedApiClient {
  private readonly options: PavedApiClientOptions;

  constructor(options: PavedApiClientOptions) {
    this.options = options;
  }

  listPlans(): Promise<ListResponse<PlanView>> {
    return this.request('GET', '/plans');
  }
  listTenants(): Promise<ListResponse<TenantView>> {
    return this.request('GET', '/tenants');
  }
  getTenant(tenant: string): Promise<TenantView> {
    return this.request('GET', `/tenants/${enc(tenant)}`);
  }
  createTenant(body: CreateTenantRequest): Promise<TenantView> {
    return this.request('POST', '/tenants', body);
  }
  updateTenant(tenant: string, body: UpdateTenantRequest): Promise<TenantView> {
    return this.request('PATCH', `/tenants/${enc(tenant)}`, body);
  }
  /** Answers 202 with a {@link TenantDeletion}; resolves once it is accepted. */
  deleteTenant(tenant: string, options?: WriteOptions): Promise<void> {
    return this.request(
      'DELETE',
      `/tenants/${enc(tenant)}${generationQuery(options)}`,
    );
  }
  /**
   * The apps of every visible tenant, or of one: all of them, or with
   * `page.limit` a page (by tenant and name; `nextCursor` while there are more).
   */
  listApps(tenant?: string, page?: PageOptions): Promise<Page<AppView>> {
    return this.request(
      'GET',
      `${tenant ? `/tenants/${enc(tenant)}/apps` : '/apps'}${queryString(
        page,
      )}`,
    );
  }
  getApp(tenant: string, app: string): Promise<AppView> {
    return this.request('GET', this.appPath(tenant, app));
  }
  /**
   * The app once it differs from the answer whose ETag was `etag`: the
   * server holds the request until the app changes, or for `waitSeconds`
   * (at most {@link MAX_APP_WAIT_SECONDS}), after which this resolves to undefined (nothing
   * changed). Without `etag` it answers at once. A long poll: whoever waits
   * for a rollout learns of each change when it happens, with no polling
   * interval.
   */
  async getAppWhenChanged(
    tenant: string,
    app: string,
    options: { etag?: string; waitSeconds: number; signal?: AbortSignal },
  ): Promise<{ app: AppView; etag: string } | undefined> {
    const headers: Record<string, string> = {};
    if (options.etag) {
      headers['if-none-match'] = options.etag;
      headers.prefer = `wait=${Math.max(
        0,
        Math.min(MAX_APP_WAIT_SECONDS, Math.ceil(options.waitSeconds)),
      )}`;
    }
    const response = await this.fetchApi('GET', this.appPath(tenant, app), {
      headers,
      signal: options.signal,
    });
    if (response.status === 304) return undefined;
    return {
      app: (await response.json()) as AppView,
      etag: response.headers.get('etag') ?? '',
    };
  }
  deployApp(
    tenant: string,
    app: string,
    body: DeployAppRequest,
  ): Promise<AppView> {
    return this.request('PUT', this.appPath(tenant, app), body);
  }
  patchEnv(
    tenant: string,
    app: string,
    body: PatchEnvRequest,
  ): Promise<AppView> {
    return this.request('PATCH', `${this.appPath(tenant, app)}/env`, body);
  }
  pauseApp(
    tenant: string,
    app: string,
    options?: WriteOptions,
  ): Promise<AppView> {
    return this.request('POST', `${this.appPath(tenant, app)}/pause`, {
      ...options,
    });
  }
  resumeApp(
    tenant: string,
    app: string,
    options?: WriteOptions,
  ): Promise<AppView> {
    return this.request('POST', `${this.appPath(tenant, app)}/resume`, {
      ...options,
    });
  }
  redeployApp(
    tenant: string,
    app: string,
    options?: WriteOptions,
  ): Promise<AppView> {
    return this.request('POST', `${this.appPath(tenant, app)}/redeploy`, {
      ...options,
    });
  }
  rollbackApp(
    tenant: string,
    app: string,
    revision: number,
    options?: WriteOptions,
  ): Promise<AppView> {
    return this.request('POST', `${this.appPath(tenant, app)}/rollback`, {
      revision,
      ...options,
    });
  }
  /** Answers 202 with an {@link AppDeletion}; resolves once it is accepted. */
  deleteApp(
    tenant: string,
    app: string,
    options?: WriteOptions,
  ): Promise<void> {
    return this.request(
      'DELETE',
      `${this.appPath(tenant, app)}${generationQuery(options)}`,
    );
  }
  listRevisions(
    tenant: string,
    app: string,
  ): Promise<ListResponse<RevisionView>> {
    return this.request('GET', `${this.appPath(tenant, app)}/revisions`);
  }
  /** The app's events, Kubernetes' and Paved's, newest first. */
  getAppEvents(
    tenant: string,
    app: string,
    page?: PageOptions,
  ): Promise<Page<AppEvent>> {
    return this.request(
      'GET',
      `${this.appPath(tenant, app)}/events${queryString(page)}`,
    );
  }
  /** The audit log of a tenant, or of one of its apps, newest first. */
  listAudit(
    tenant: string,
    app?: string,
    page?: PageOptions,
  ): Promise<Page<AuditEntryView>> {
    const path = app
      ? `${this.appPath(tenant, app)}/audit`
      : `/tenants/${enc(tenant)}/audit`;
    return this.request('GET', `${path}${queryString(page)}`);
  }
  /** Deleted tenants whose history the caller may read. */
  listDeletedTenants(): Promise<ListResponse<DeletedTenantView>> {
    return this.request('GET', '/history/tenants');
  }
  /** The audit log of a deleted tenant, by its uid. */
  listDeletedTenantAudit(
    uid: string,
    page?: PageOptions,
  ): Promise<Page<AuditEntryView>> {
    return this.request(
      'GET',
      `/history/tenants/${enc(uid)}/audit${queryString(page)}`,
    );
  }

  /**
   * Streams the app's container logs: `onEvent` gets each line (and the
   * notices); resolves when the stream ends (not following: after the last
   * line; following: when `signal` aborts, or the server goes). A refused
   * request rejects with the usual ResponseError.
   */
  async streamLogs(
    tenant: string,
    app: string,
    query: LogsQuery,
    options: {
      onEvent: (event: LogStreamEvent) => void;
      signal?: AbortSignal;
    },
  ): Promise<void> {
    const response = await this.fetchApi(
      'GET',
      `${this.appPath(tenant, app)}/logs${queryString(query)}`,
      { accept: 'text/event-stream', signal: options.signal },
    );
    if (!response.body) return;
    try {
      await readLogStream(response.body, options.onEvent);
    } catch (error) {
      if (options.signal?.aborted) return;
      throw error;
    }
  }

  /**
   * Puts a custom domain on the app (claimed for its tenant; moved from
   * another app of the tenant), with the certificate its owner brings
   * (`certificate` and `privateKey`, PEM) or none (HTTP only).
   */
  putDomain(
    tenant: string,
    app: string,
    domain: string,
    body: PutDomainRequest = {},
  ): Promise<AppView> {
    return this.request(
      'PUT',
      `${this.appPath(tenant, app)}/domains/${enc(domain)}`,
      body,
    );
  }

  /** Removes a custom domain from the app (releases its claim and certificate). */
  removeDomain(
    tenant: string,
    app: string,
    domain: string,
    options?: WriteOptions,
  ): Promise<AppView> {
    return this.request(
      'DELETE',
      `${this.appPath(tenant, app)}/domains/${enc(domain)}${generationQuery(
        options,
      )}`,
    );
  }

  private appPath(tenant: string, app: string) {
    return `/tenants/${enc(tenant)}/apps/${enc(app)}`;
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    const response = await this.fetchApi(method, path, { body });
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /** One call, with the token and the client header; throws for a non-2xx answer. */
  private async fetchApi(
    method: string,
    path: string,
    options: {
      body?: unknown;
      accept?: string;
      signal?: AbortSignal;
      headers?: Record<string, string>;
    },
  ): Promise<Response> {
    const { baseUrl, token, client } = this.options;
    const base = typeof baseUrl === 'string' ? baseUrl : await baseUrl();
    const bearer = typeof token === 'function' ? await token() : token;
    const headers: Record<string, string> = { ...options.headers };
    const { body } = options;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.accept) headers.accept = options.accept;
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (client) headers[PAVED_CLIENT_HEADER] = client;
    const doFetch = this.options.fetch ?? fetch;
    const response = await doFetch(`${base.replace(/\/$/, '')}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: options.signal,
    });
    // 304 answers a conditional read (If-None-Match): nothing changed.
    if (!response.ok && response.status !== 304) {
      throw await ResponseError.fromResponse(response);
    }
    return response;
  }
}
