/**
 * The REST API of the Paved backend (`/api/paved`): request and response
 * types shared by the backend, the frontend and the scaffolder actions, and
 * a small fetch-based client usable from all of them.
 */
import type { AppSpec, AppStatus, Condition, TenantStatus } from './schemas';
import type { Plan, PlanLimits } from './plans';

/** Status from the cluster; `known: false` when the cluster did not tell yet. */
export type KnownStatus<T> = T & {
  /** False when the backend has no watch data for the object (cluster down, not yet created). */
  known: boolean;
  /**
   * True when the operator has observed the object's current spec
   * (`status.observedGeneration` equals `metadata.generation`), so the phase
   * describes what was last applied rather than an earlier version. Absent
   * otherwise.
   */
  current?: boolean;
};

/** Where the cluster stands with respect to what was saved. */
export interface SyncView {
  /** The backend's desired revision of the object, bumped by every write. */
  generation: number;
  /** The last generation the API server accepted. */
  appliedGeneration: number;
  /** True when the cluster has not accepted the latest write yet; the sync job retries. */
  pending: boolean;
  /** The last error from applying the object, if it is still behind. */
  lastError?: string;
}

export interface TenantView {
  name: string;
  displayName: string;
  owner: string;
  plan: string;
  /** Overrides of the plan limits, as saved. */
  limits?: Partial<PlanLimits>;
  /** The plan's limits with the overrides applied: what the operator enforces. */
  effectiveLimits: PlanLimits;
  networkIsolation: boolean;
  namespace: string;
  appCount: number;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  sync: SyncView;
  status: KnownStatus<TenantStatus>;
}

export interface CreateTenantRequest {
  name: string;
  displayName: string;
  owner: string;
  plan?: string;
  limits?: Partial<PlanLimits>;
  networkIsolation?: boolean;
}

export interface UpdateTenantRequest {
  displayName?: string;
  plan?: string;
  /** Replaces the overrides; `null` removes them. */
  limits?: Partial<PlanLimits> | null;
  networkIsolation?: boolean;
  /** The generation the caller last saw; a different one gives 409. */
  expectedGeneration?: number;
}

/**
 * An env var as the API takes it: a plain value, or a secret value that is
 * stored in a Kubernetes Secret in the tenant namespace and never returned.
 */
export interface EnvVarInput {
  name: string;
  value: string;
  secret?: boolean;
}

/** An env var as the API returns it; secret values are masked. */
export interface EnvVarView {
  name: string;
  value: string;
  secret: boolean;
}

/** The mask shown instead of a secret value. */
export const SECRET_MASK = '********';

export interface DeployAppRequest {
  image: string;
  port?: number;
  /**
   * The complete env of the app. A secret entry whose value is the mask
   * keeps the value saved before, so a client can send back what it read.
   */
  env?: EnvVarInput[];
  scaling?: Partial<AppSpec['scaling']>;
  resources?: Partial<AppSpec['resources']>;
  domains?: string[];
  paused?: boolean;
  /** The generation the caller last saw; a different one gives 409. Omit to create or overwrite. */
  expectedGeneration?: number;
}

export interface PatchEnvRequest {
  /** Entries to add or change. */
  set?: EnvVarInput[];
  /** Names to remove. */
  remove?: string[];
  expectedGeneration?: number;
}

export interface AppView {
  tenant: string;
  name: string;
  /** `<tenant>/<app>`, as in the catalog annotation `paved.dev/app`. */
  ref: string;
  namespace: string;
  image: string;
  port: number;
  env: EnvVarView[];
  scaling: AppSpec['scaling'];
  resources: AppSpec['resources'];
  domains: string[];
  paused: boolean;
  /** The revision number of the current config (1 for the first deploy). */
  revision: number;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
  sync: SyncView;
  status: KnownStatus<AppStatus>;
}

export interface RevisionView {
  revision: number;
  action: string;
  actor: string;
  createdAt: string;
  image: string;
  config: Omit<AppView, 'status' | 'sync' | 'createdAt' | 'updatedAt'>;
}

export interface AuditEntryView {
  id: number;
  at: string;
  /** The user entity ref, or the service principal (`service:<subject>`). */
  actor: string;
  principalType: 'user' | 'service' | 'none';
  action: string;
  tenant: string;
  app?: string;
  detail?: Record<string, unknown>;
}

export type PlanView = Plan;

export interface AppEventsView {
  /** Conditions of the App, as the operator reports them. */
  conditions: Condition[];
  message?: string;
  phase?: string;
  known: boolean;
}

export interface ListResponse<T> {
  items: T[];
}

/** The error body every failed request answers with (Backstage's format). */
export interface ErrorResponseBody {
  error: { name: string; message: string };
  response: { statusCode: number };
}

/** An error answered by the Paved API. */
export class PavedApiError extends Error {
  readonly status: number;
  readonly errorName: string;
  constructor(status: number, errorName: string, message: string) {
    super(message);
    this.name = 'PavedApiError';
    this.status = status;
    this.errorName = errorName;
  }
}

export interface PavedApiClientOptions {
  /** Base URL of the plugin, e.g. `http://localhost:7007/api/paved`, or a function giving it. */
  baseUrl: string | (() => Promise<string>);
  /** The fetch to use: Backstage's fetchApi.fetch in the browser, global fetch elsewhere. */
  fetch?: typeof fetch;
  /** A bearer token (a service or user token), or a function giving one. */
  token?: string | (() => Promise<string | undefined>);
}

const enc = encodeURIComponent;

/** Optimistic concurrency for writes without a body of their own. */
export interface WriteOptions {
  /** The generation you last read; the write fails with 409 if it changed since. */
  expectedGeneration?: number;
}

function generationQuery(options?: WriteOptions): string {
  return options?.expectedGeneration === undefined
    ? ''
    : `?expectedGeneration=${options.expectedGeneration}`;
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
      let name = 'Error';
      let message = `${method} ${path} answered ${response.status} ${response.statusText}`;
      try {
        const parsed = (await response.json()) as ErrorResponseBody;
        name = parsed.error?.name ?? name;
        message = parsed.error?.message ?? message;
      } catch {
        // not a JSON error body; keep the status line
      }
      throw new PavedApiError(response.status, name, message);
    }
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }
}
