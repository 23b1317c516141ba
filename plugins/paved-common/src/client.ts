/**
 * A small fetch-based client of the Paved REST API, usable from the
 * backend, the frontend and the scaffolder actions. A failed request throws
 * `ResponseError` from `@backstage/errors`: `statusCode`, and the server's
 * error (`cause.name`, `cause.message`, also in `body.error`).
 */
import { ResponseError } from '@backstage/errors';
import type {
  AppEventsView,
  AppView,
  AuditEntryView,
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

export interface PavedApiClientOptions {
  /** Base URL of the plugin, e.g. `http://localhost:7007/api/paved`, or a function giving it. */
  baseUrl: string | (() => Promise<string>);
  /** The fetch to use: Backstage's fetchApi.fetch in the browser, global fetch elsewhere. */
  fetch?: typeof fetch;
  /** A bearer token (a service or user token), or a function giving one. */
  token?: string | (() => Promise<string | undefined>);
}

const enc = encodeURIComponent;

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
  listApps(tenant?: string): Promise<ListResponse<AppView>> {
    return this.request(
      'GET',
      tenant ? `/tenants/${enc(tenant)}/apps` : '/apps',
    );
  }
  getApp(tenant: string, app: string): Promise<AppView> {
    return this.request('GET', this.appPath(tenant, app));
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
  getAppEvents(tenant: string, app: string): Promise<AppEventsView> {
    return this.request('GET', `${this.appPath(tenant, app)}/events`);
  }
  listAudit(
    tenant: string,
    app?: string,
  ): Promise<ListResponse<AuditEntryView>> {
    return this.request(
      'GET',
      app
        ? `${this.appPath(tenant, app)}/audit`
        : `/tenants/${enc(tenant)}/audit`,
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
    const { baseUrl, token } = this.options;
    const base = typeof baseUrl === 'string' ? baseUrl : await baseUrl();
    const bearer = typeof token === 'function' ? await token() : token;
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const doFetch = this.options.fetch ?? fetch;
    const response = await doFetch(`${base.replace(/\/$/, '')}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }
}
