import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { AppStore } from './AppStore';
import { AuditStore } from './AuditStore';
import type {
  Actor,
  AppRecord,
  AppWrite,
  AuditRecord,
  BehindRows,
  DeletedTenantRecord,
  ListAppsOptions,
  PavedStore,
  RevisionRecord,
  TenantCreate,
  TenantFilter,
  TenantRecord,
  TenantUpdate,
  TenantUpdateOptions,
  WrittenApp,
} from './PavedStore';
import { DomainStore, StoredDomainCertificate } from './DomainStore';
import { RevisionStore } from './RevisionStore';
import type { SecretBox } from './SecretBox';
import { TenantStore } from './TenantStore';

const migrationsDir = resolvePackagePath(
  '@paved/plugin-paved-backend',
  'migrations',
);

/**
 * {@link PavedStore} on SQLite or PostgreSQL: runs the migrations and
 * builds the stores by what they store (TenantStore, AppStore with env and
 * secrets, RevisionStore, AuditStore), which share one knex client and pass
 * one transaction between them. A thin facade, kept because the plugin, the
 * cluster sync and the benches take one store; each method is one call to
 * the store that owns it, and the stores are public for code that wants
 * only a part.
 */
export class DatabasePavedStore implements PavedStore {
  static async create(options: {
    database: DatabaseService;
    secretBox?: SecretBox;
  }): Promise<DatabasePavedStore> {
    const client = await options.database.getClient();
    if (!options.database.migrations?.skip) {
      await client.migrate.latest({ directory: migrationsDir });
    }
    return new DatabasePavedStore(client, options.secretBox);
  }

  readonly audit: AuditStore;
  readonly revisions: RevisionStore;
  readonly tenants: TenantStore;
  readonly apps: AppStore;
  readonly domains: DomainStore;

  private constructor(db: Knex, secretBox?: SecretBox) {
    this.audit = new AuditStore(db);
    this.revisions = new RevisionStore(db);
    this.tenants = new TenantStore(db, this.audit);
    this.domains = new DomainStore(db, this.revisions, this.audit, secretBox);
    this.apps = new AppStore(
      db,
      this.revisions,
      this.audit,
      secretBox,
      this.domains,
    );
  }

  // ------------------------------------------------------------------ tenants

  listTenants(options?: { filter?: TenantFilter }): Promise<TenantRecord[]> {
    return this.tenants.listTenants(options);
  }
  getTenant(name: string): Promise<TenantRecord | undefined> {
    return this.tenants.getTenant(name);
  }
  getTenants(names: string[]): Promise<Array<TenantRecord | undefined>> {
    return this.tenants.getTenants(names);
  }
  createTenant(input: TenantCreate, actor: Actor): Promise<TenantRecord> {
    return this.tenants.createTenant(input, actor);
  }
  updateTenant(
    name: string,
    update: TenantUpdate,
    options: TenantUpdateOptions,
  ): Promise<TenantRecord> {
    return this.tenants.updateTenant(name, update, options);
  }
  markTenantDeleting(
    name: string,
    actor: Actor,
    options?: { expectedGeneration?: number },
  ): Promise<TenantRecord> {
    return this.tenants.markTenantDeleting(name, actor, options);
  }
  countApps(tenant: string): Promise<number> {
    return this.tenants.countApps(tenant);
  }
  appCounts(tenants: string[]): Promise<Map<string, number>> {
    return this.tenants.appCounts(tenants);
  }

  // --------------------------------------------------------------------- apps

  listApps(options?: ListAppsOptions): Promise<AppRecord[]> {
    return this.apps.listApps(options);
  }
  getApp(tenant: string, name: string): Promise<AppRecord | undefined> {
    return this.apps.getApp(tenant, name);
  }
  getApps(
    keys: Array<{ tenant: string; name: string }>,
  ): Promise<Array<AppRecord | undefined>> {
    return this.apps.getApps(keys);
  }
  writeApp(write: AppWrite): Promise<WrittenApp> {
    return this.apps.writeApp(write);
  }
  markAppDeleting(
    tenant: string,
    name: string,
    actor: Actor,
    options?: { expectedGeneration?: number },
  ): Promise<void> {
    return this.apps.markAppDeleting(tenant, name, actor, options);
  }
  getSecrets(tenant: string, app: string): Promise<Map<string, string>> {
    return this.apps.getSecrets(tenant, app);
  }
  domainCertificates(tenant: string): Promise<StoredDomainCertificate[]> {
    return this.domains.certificates(tenant);
  }

  // ---------------------------------------------------------------- history

  listRevisions(tenant: string, app: string): Promise<RevisionRecord[]> {
    return this.revisions.listRevisions(tenant, app);
  }
  getRevision(
    tenant: string,
    app: string,
    revision: number,
  ): Promise<RevisionRecord | undefined> {
    return this.revisions.getRevision(tenant, app, revision);
  }
  listAudit(options: {
    tenantUid: string;
    app?: string;
    limit: number;
    beforeId?: number;
  }): Promise<AuditRecord[]> {
    return this.audit.listAudit(options);
  }
  listDeletedTenants(options: {
    filter?: TenantFilter;
  }): Promise<DeletedTenantRecord[]> {
    return this.audit.listDeletedTenants(options);
  }
  getDeletedTenant(uid: string): Promise<DeletedTenantRecord | undefined> {
    return this.audit.getDeletedTenant(uid);
  }

  // --------------------------------------------------------------------- sync

  async listBehind(): Promise<BehindRows> {
    const [tenants, apps] = await Promise.all([
      this.tenants.listBehindTenants(),
      this.apps.listBehindApps(),
    ]);
    return { tenants, apps };
  }
  markTenantApplied(
    name: string,
    generation: number,
  ): Promise<TenantRecord | undefined> {
    return this.tenants.markTenantApplied(name, generation);
  }
  markAppApplied(
    tenant: string,
    name: string,
    generation: number,
  ): Promise<AppRecord | undefined> {
    return this.apps.markAppApplied(tenant, name, generation);
  }
  markTenantFailed(name: string, error: string): Promise<void> {
    return this.tenants.markTenantFailed(name, error);
  }
  markAppFailed(
    tenant: string,
    name: string,
    error: string,
  ): Promise<AppRecord | undefined> {
    return this.apps.markAppFailed(tenant, name, error);
  }
  markSecretApplied(
    tenant: string,
    name: string,
    applied: boolean,
  ): Promise<void> {
    return this.apps.markSecretApplied(tenant, name, applied);
  }
  purgeTenant(name: string): Promise<void> {
    return this.tenants.purgeTenant(name);
  }
  purgeApp(tenant: string, name: string): Promise<void> {
    return this.apps.purgeApp(tenant, name);
  }
}
