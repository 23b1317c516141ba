import type { TenantQuery } from '@paved/plugin-paved-node';
import type { AppSpec, AuditVia, PlanLimits } from '@paved/plugin-paved-common';
import type { PermissionCriteria } from '@backstage/plugin-permission-common';
import type { DomainCertificate, StoredDomainCertificate } from './DomainStore';

/** A tenant as saved: what users asked for, plus the sync bookkeeping. */
export interface TenantRecord {
  name: string;
  /** A new one each time a tenant of this name is created (its history's key). */
  uid: string;
  displayName: string;
  owner: string;
  plan: string;
  limits?: Partial<PlanLimits>;
  networkIsolation: boolean;
  generation: number;
  appliedGeneration: number;
  lastError?: string;
  deleting: boolean;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

/** An app as saved. Secret env entries are `secretKeyRef`s; values live encrypted in their own table. */
export interface AppRecord {
  tenant: string;
  name: string;
  spec: AppSpec;
  revision: number;
  redeployToken?: string;
  /** True when the app's Secret was applied to the cluster and not deleted since. */
  secretApplied: boolean;
  generation: number;
  appliedGeneration: number;
  lastError?: string;
  deleting: boolean;
  createdBy: string;
  updatedBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface RevisionRecord {
  tenant: string;
  app: string;
  revision: number;
  action: string;
  image: string;
  spec: AppSpec;
  actor: string;
  createdAt: string;
}

export interface AuditRecord {
  id: number;
  at: string;
  actor: string;
  principalType: 'user' | 'service' | 'none';
  via: AuditVia;
  action: string;
  tenant: string;
  app?: string;
  detail?: Record<string, unknown>;
}

/** Who made a change, for the audit log and the revision history. */
export interface Actor {
  /** User entity ref or `service:<subject>`. */
  ref: string;
  principalType: AuditRecord['principalType'];
  /** The client the change came through (`api` when not said). */
  via?: AuditVia;
}

/** A deleted tenant, kept for its history. */
export interface DeletedTenantRecord {
  uid: string;
  name: string;
  displayName: string;
  owner: string;
  createdAt: string;
  deletedAt: string;
}

/**
 * A tenant filter that permission conditions turn into: tenants whose owner
 * is one of `owners` (see permissions/rules.ts), or, for a service token
 * scoped to some tenants, whose name is one of `names`.
 */
export type { TenantQuery };
export type TenantFilter = PermissionCriteria<TenantQuery>;

export interface TenantCreate {
  name: string;
  displayName: string;
  owner: string;
  plan: string;
  limits?: Partial<PlanLimits>;
  networkIsolation: boolean;
}

/** Who updates a tenant, the generation it expects, and a last check inside the transaction. */
export interface TenantUpdateOptions {
  actor: Actor;
  expectedGeneration?: number;
  /** Sees the tenant as it would be and its app count; throws to refuse. */
  check?: (next: TenantRecord, appCount: number) => void;
}

export interface TenantUpdate {
  displayName?: string;
  plan?: string;
  limits?: Partial<PlanLimits> | null;
  networkIsolation?: boolean;
}

/** What a write to an app does, recorded in its revision history. */
export type AppAction =
  | 'deploy'
  | 'patch-env'
  | 'pause'
  | 'resume'
  | 'redeploy'
  | 'rollback'
  | 'domains';

export interface AppWrite {
  tenant: string;
  name: string;
  /**
   * Runs first in the write's transaction, with the tenant row as locked
   * (before the app row is read); throw to refuse. The caller's tenant
   * access is checked here, against the row the write goes by, so the
   * request reads no tenant row before its transaction.
   */
  authorizeTenant?: (tenant: TenantRecord) => void;
  /**
   * Runs next, with the app as locked (undefined when it is new or being
   * deleted); throw to refuse. Access checks that depend on whether the app
   * exists go here.
   */
  authorize?: (current: AppRecord | undefined) => void;
  /**
   * Computes the new spec from the current record (undefined when the app is
   * new) inside the write's transaction; throw to abort.
   */
  spec: (current: AppRecord | undefined) => AppSpec;
  /** Secret values to store encrypted, by env name; entries not listed are removed unless kept. */
  secrets?: Map<string, string>;
  /** Env names whose stored secret value is kept as is (or a function of the current record, in the transaction). */
  keepSecrets?: string[] | ((current: AppRecord | undefined) => string[]);
  action: AppAction;
  actor: Actor;
  expectedGeneration?: number;
  /**
   * How many apps the tenant may have, from its row as locked by the write:
   * creating one more is refused. Read inside the transaction, so a plan
   * downgrade and a deploy cannot both pass their checks.
   */
  maxApps?: (tenant: TenantRecord) => number;
  /** Set a fresh redeploy token, so the cluster rolls a new revision. */
  redeploy?: boolean;
  detail?: Record<string, unknown>;
  /** Certificates of the app's domains to save (null: remove it); see DomainStore. */
  certificates?: Map<string, DomainCertificate | null>;
}

/** An app as its write left it, before any later write. */
export type WrittenApp = AppRecord & {
  /** True when this write created the app (or revived a deleted one). */
  created: boolean;
  /** Other apps of the tenant that this write took a domain from. */
  moved?: string[];
};

/** How many revisions of an app are kept; older ones are pruned. */
export const REVISIONS_KEPT = 100;

/** Rows whose applied generation is behind, for the sync job. */
export interface BehindRows {
  tenants: TenantRecord[];
  apps: AppRecord[];
}

/** Tenants (database/TenantStore.ts). */
export interface PavedTenantStore {
  listTenants(options?: { filter?: TenantFilter }): Promise<TenantRecord[]>;
  getTenant(name: string): Promise<TenantRecord | undefined>;
  /**
   * Many tenants in one query, in the order of `names`, undefined for a
   * name with no row (permission `getResources`).
   */
  getTenants(names: string[]): Promise<Array<TenantRecord | undefined>>;
  createTenant(input: TenantCreate, actor: Actor): Promise<TenantRecord>;
  /**
   * Updates a tenant; `check` sees the tenant as it would be and its app
   * count inside the transaction, and throws to refuse.
   */
  updateTenant(
    name: string,
    update: TenantUpdate,
    options: TenantUpdateOptions,
  ): Promise<TenantRecord>;
  /** Marks the tenant and its apps for deletion; the sync job deletes the CR and then the rows. */
  markTenantDeleting(
    name: string,
    actor: Actor,
    options?: { expectedGeneration?: number },
  ): Promise<TenantRecord>;
  countApps(tenant: string): Promise<number>;
  appCounts(tenants: string[]): Promise<Map<string, number>>;
}

/** Which apps `listApps` answers: by tenant and name, all or a page. */
export interface ListAppsOptions {
  tenant?: string;
  filter?: TenantFilter;
  /** At most this many (a page). */
  limit?: number;
  /** Only those after this one (the last of the previous page). */
  after?: { tenant: string; name: string };
}

/** Apps, their env and secrets (database/AppStore.ts). */
export interface PavedAppStore {
  listApps(options?: ListAppsOptions): Promise<AppRecord[]>;
  getApp(tenant: string, name: string): Promise<AppRecord | undefined>;
  /** Many apps in one query (or a few), in the order of `keys`, undefined for a key with no row. */
  getApps(
    keys: Array<{ tenant: string; name: string }>,
  ): Promise<Array<AppRecord | undefined>>;
  writeApp(write: AppWrite): Promise<WrittenApp>;
  markAppDeleting(
    tenant: string,
    name: string,
    actor: Actor,
    options?: { expectedGeneration?: number },
  ): Promise<void>;
  getSecrets(tenant: string, app: string): Promise<Map<string, string>>;
}

/** App history (database/RevisionStore.ts). */
export interface PavedRevisionStore {
  listRevisions(tenant: string, app: string): Promise<RevisionRecord[]>;
  getRevision(
    tenant: string,
    app: string,
    revision: number,
  ): Promise<RevisionRecord | undefined>;
}

/** The audit log (database/AuditStore.ts). */
export interface PavedAuditStore {
  /** Newest first: up to `limit` entries of the tenant `tenantUid` (of `app`), older than `beforeId`. */
  listAudit(options: {
    tenantUid: string;
    app?: string;
    limit: number;
    beforeId?: number;
  }): Promise<AuditRecord[]>;
  /** Deleted tenants (the filter's owners, or all), most recently deleted first. */
  listDeletedTenants(options: {
    filter?: TenantFilter;
  }): Promise<DeletedTenantRecord[]>;
  getDeletedTenant(uid: string): Promise<DeletedTenantRecord | undefined>;
}

/** Custom domains' certificates (database/DomainStore.ts). */
export interface PavedDomainStore {
  /** The tenant's stored certificates, private keys decrypted, for the TLS Secrets. */
  domainCertificates(tenant: string): Promise<StoredDomainCertificate[]>;
}

/** What the cluster sync records on tenants and apps. */
export interface PavedSyncStore {
  /** Rows the cluster has not accepted yet (including deletions). */
  listBehind(): Promise<BehindRows>;
  /**
   * Records that the cluster accepted `generation` (never moves backwards);
   * answers the row as this left it, undefined when there is none.
   */
  markTenantApplied(
    name: string,
    generation: number,
  ): Promise<TenantRecord | undefined>;
  markAppApplied(
    tenant: string,
    name: string,
    generation: number,
  ): Promise<AppRecord | undefined>;
  markTenantFailed(name: string, error: string): Promise<void>;
  /** Saves the error; answers the row as this left it. */
  markAppFailed(
    tenant: string,
    name: string,
    error: string,
  ): Promise<AppRecord | undefined>;
  markSecretApplied(
    tenant: string,
    name: string,
    applied: boolean,
  ): Promise<void>;
  /** Removes rows whose deletion the cluster finished. */
  purgeTenant(name: string): Promise<void>;
  purgeApp(tenant: string, name: string): Promise<void>;
}

/**
 * Where Paved keeps its config: tenants, apps, history and the audit log.
 * The union of the stores by what they store; the services take the parts
 * they use, the cluster sync and the plugin take the whole.
 */
export interface PavedStore
  extends PavedTenantStore,
    PavedDomainStore,
    PavedAppStore,
    PavedRevisionStore,
    PavedAuditStore,
    PavedSyncStore {}
