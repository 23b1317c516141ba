import {
  DatabaseService,
  isDatabaseConflictError,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  isAndCriteria,
  isNotCriteria,
  isOrCriteria,
} from '@backstage/plugin-permission-node';
import { ENV_TOTAL_MAX_BYTES, AppSpec } from '@paved/plugin-paved-common';
import crypto from 'crypto';
import { Knex } from 'knex';
import {
  Actor,
  AppRecord,
  AppWrite,
  AuditRecord,
  BehindRows,
  PavedStore,
  REVISIONS_KEPT,
  RevisionRecord,
  TenantCreate,
  TenantFilter,
  TenantRecord,
  TenantUpdate,
  WrittenApp,
} from './PavedStore';
import { SecretBox } from './SecretBox';
import { PayloadTooLargeError } from '../service/errors';

const migrationsDir = resolvePackagePath(
  '@paved/plugin-paved-backend',
  'migrations',
);

const TENANTS = 'paved_tenants';
const APPS = 'paved_apps';
const SECRETS = 'paved_app_secrets';
const REVISIONS = 'paved_app_revisions';
const AUDIT = 'paved_audit_log';

/** Longest error text kept per row; the rest is in the logs. */
const MAX_ERROR_LENGTH = 2000;

function iso(value: unknown): string {
  return value instanceof Date
    ? value.toISOString()
    : new Date(String(value)).toISOString();
}

function json<T>(value: unknown): T | undefined {
  if (value === null || value === undefined) return undefined;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function toTenant(row: any): TenantRecord {
  return {
    name: row.name,
    displayName: row.display_name,
    owner: row.owner,
    plan: row.plan,
    limits: json(row.limits),
    networkIsolation: Boolean(row.network_isolation),
    generation: Number(row.generation),
    appliedGeneration: Number(row.applied_generation),
    lastError: row.last_error ?? undefined,
    deleting: Boolean(row.deleting),
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

type SpecCache = Map<string, { stamp: string; spec: AppSpec }>;
const SPEC_CACHE_MAX = 20_000;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/**
 * Parses a row's spec, reusing the last parse while the row's generation and
 * update time are unchanged: lists read every row each time, and parsing the
 * JSON was most of their cost. Cached specs are frozen, so no caller can
 * change one another caller sees.
 */
function parsedSpec(row: any, cache?: SpecCache): AppSpec {
  if (!cache || typeof row.spec !== 'string') return json<AppSpec>(row.spec)!;
  const key = `${row.tenant}/${row.name}`;
  const stamp = `${row.generation}@${iso(row.updated_at)}`;
  const hit = cache.get(key);
  if (hit && hit.stamp === stamp) return hit.spec;
  const spec = deepFreeze(json<AppSpec>(row.spec)!);
  if (cache.size >= SPEC_CACHE_MAX) cache.clear();
  cache.set(key, { stamp, spec });
  return spec;
}

function toApp(row: any, cache?: SpecCache): AppRecord {
  return {
    tenant: row.tenant,
    name: row.name,
    spec: parsedSpec(row, cache),
    revision: Number(row.revision),
    redeployToken: row.redeploy_token ?? undefined,
    secretApplied: Boolean(row.secret_applied),
    generation: Number(row.generation),
    appliedGeneration: Number(row.applied_generation),
    lastError: row.last_error ?? undefined,
    deleting: Boolean(row.deleting),
    createdBy: row.created_by,
    updatedBy: row.updated_by,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** Turns a permission filter into a where clause on the tenants table. */
function applyTenantFilter(
  query: Knex.QueryBuilder,
  filter: TenantFilter,
  columns: { owner: string; name: string },
): void {
  if (isAndCriteria(filter)) {
    query.where(q => {
      for (const sub of filter.allOf) {
        q.andWhere(inner => applyTenantFilter(inner, sub, columns));
      }
    });
  } else if (isOrCriteria(filter)) {
    query.where(q => {
      for (const sub of filter.anyOf) {
        q.orWhere(inner => applyTenantFilter(inner, sub, columns));
      }
    });
  } else if (isNotCriteria(filter)) {
    query.whereNot(q => applyTenantFilter(q, filter.not, columns));
  } else {
    const [column, values] =
      'names' in filter
        ? [columns.name, filter.names]
        : [columns.owner, filter.owners];
    if (values.length === 0) query.whereRaw('1 = 0');
    else query.whereIn(column, values);
  }
}

/** The knex implementation of {@link PavedStore}, on SQLite or PostgreSQL. */
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

  private readonly specCache: SpecCache = new Map();

  private constructor(
    private readonly db: Knex,
    private readonly secretBox?: SecretBox,
  ) {}

  private now(): string {
    return new Date().toISOString();
  }

  // ------------------------------------------------------------------ tenants

  async listTenants(options?: {
    filter?: TenantFilter;
  }): Promise<TenantRecord[]> {
    const query = this.db(TENANTS).where('deleting', false).orderBy('name');
    if (options?.filter) {
      applyTenantFilter(query, options.filter, {
        owner: 'owner',
        name: 'name',
      });
    }
    return (await query).map(toTenant);
  }

  async getTenant(name: string): Promise<TenantRecord | undefined> {
    const row = await this.db(TENANTS).where({ name }).first();
    return row ? toTenant(row) : undefined;
  }

  async createTenant(input: TenantCreate, actor: Actor): Promise<TenantRecord> {
    const now = this.now();
    try {
      await this.db.transaction(async tx => {
        const existing = await tx(TENANTS).where({ name: input.name }).first();
        if (existing) {
          throw new ConflictError(
            existing.deleting
              ? `Tenant ${input.name} is being deleted; create it again once it is gone`
              : `Tenant ${input.name} already exists; choose another name`,
          );
        }
        await tx(TENANTS).insert({
          name: input.name,
          display_name: input.displayName,
          owner: input.owner,
          plan: input.plan,
          limits: input.limits ? JSON.stringify(input.limits) : null,
          network_isolation: input.networkIsolation,
          generation: 1,
          applied_generation: 0,
          deleting: false,
          created_by: actor.ref,
          created_at: now,
          updated_at: now,
        });
        await this.audit(tx, actor, 'tenant.create', input.name, undefined, {
          owner: input.owner,
          plan: input.plan,
        });
      });
    } catch (error) {
      if (isDatabaseConflictError(error)) {
        throw new ConflictError(
          `Tenant ${input.name} already exists; choose another name`,
        );
      }
      throw error;
    }
    return (await this.getTenant(input.name))!;
  }

  async updateTenant(
    name: string,
    update: TenantUpdate,
    options: {
      actor: Actor;
      expectedGeneration?: number;
      check?: (next: TenantRecord, appCount: number) => void;
    },
  ): Promise<TenantRecord> {
    return await this.db.transaction(async tx => {
      const row = await this.lockTenant(tx, name);
      checkGeneration(`Tenant ${name}`, row, options.expectedGeneration);
      if (options.check) {
        const current = toTenant(row);
        const [{ count }] = await tx(APPS)
          .where({ tenant: name, deleting: false })
          .count({ count: '*' });
        options.check(
          {
            ...current,
            ...(update.displayName !== undefined
              ? { displayName: update.displayName }
              : {}),
            ...(update.plan !== undefined ? { plan: update.plan } : {}),
            ...(update.limits !== undefined
              ? { limits: update.limits ?? undefined }
              : {}),
            ...(update.networkIsolation !== undefined
              ? { networkIsolation: update.networkIsolation }
              : {}),
          },
          Number(count),
        );
      }
      const patch: Record<string, unknown> = {
        generation: Number(row.generation) + 1,
        updated_at: this.now(),
        last_error: null,
      };
      if (update.displayName !== undefined) {
        patch.display_name = update.displayName;
      }
      if (update.plan !== undefined) patch.plan = update.plan;
      if (update.limits !== undefined) {
        patch.limits = update.limits ? JSON.stringify(update.limits) : null;
      }
      if (update.networkIsolation !== undefined) {
        patch.network_isolation = update.networkIsolation;
      }
      await tx(TENANTS).where({ name }).update(patch);
      await this.audit(tx, options.actor, 'tenant.update', name, undefined, {
        ...update,
      });
      return toTenant(await tx(TENANTS).where({ name }).first());
    });
  }

  async markTenantDeleting(
    name: string,
    actor: Actor,
    options?: { expectedGeneration?: number },
  ): Promise<TenantRecord> {
    await this.db.transaction(async tx => {
      const row = await this.lockTenant(tx, name);
      checkGeneration(`Tenant ${name}`, row, options?.expectedGeneration);
      await tx(TENANTS)
        .where({ name })
        .update({
          deleting: true,
          generation: Number(row.generation) + 1,
          updated_at: this.now(),
          last_error: null,
        });
      // The operator deletes the tenant's apps with the tenant; the rows go
      // when the tenant row is purged (ON DELETE CASCADE).
      await tx(APPS).where({ tenant: name }).update({ deleting: true });
      await this.audit(tx, actor, 'tenant.delete', name);
    });
    return (await this.getTenant(name))!;
  }

  /** Reads a live tenant row, locked for the transaction where the database can. */
  private async lockTenant(tx: Knex.Transaction, name: string) {
    const query = tx(TENANTS).where({ name });
    if (tx.client.config.client === 'pg') query.forUpdate();
    const row = await query.first();
    if (!row || row.deleting) {
      throw new NotFoundError(`Tenant ${name} not found`);
    }
    return row;
  }

  // --------------------------------------------------------------------- apps

  async countApps(tenant: string): Promise<number> {
    const [{ count }] = await this.db(APPS)
      .where({ tenant, deleting: false })
      .count({ count: '*' });
    return Number(count);
  }

  async appCounts(tenants: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (tenants.length === 0) return counts;
    const rows = await this.db(APPS)
      .select('tenant')
      .count({ count: '*' })
      .where('deleting', false)
      .whereIn('tenant', tenants)
      .groupBy('tenant');
    for (const row of rows as any[]) {
      counts.set(row.tenant, Number(row.count));
    }
    return counts;
  }

  async listApps(options?: {
    tenant?: string;
    filter?: TenantFilter;
  }): Promise<AppRecord[]> {
    const query = this.db(APPS)
      .join(TENANTS, `${TENANTS}.name`, `${APPS}.tenant`)
      .select(`${APPS}.*`)
      .where(`${APPS}.deleting`, false)
      .andWhere(`${TENANTS}.deleting`, false)
      .orderBy([`${APPS}.tenant`, `${APPS}.name`]);
    if (options?.tenant) query.andWhere(`${APPS}.tenant`, options.tenant);
    if (options?.filter) {
      applyTenantFilter(query, options.filter, {
        owner: `${TENANTS}.owner`,
        name: `${TENANTS}.name`,
      });
    }
    return (await query).map(row => toApp(row, this.specCache));
  }

  async getApp(tenant: string, name: string): Promise<AppRecord | undefined> {
    const row = await this.db(APPS).where({ tenant, name }).first();
    return row ? toApp(row, this.specCache) : undefined;
  }

  async writeApp(write: AppWrite): Promise<WrittenApp> {
    if (write.secrets?.size && !this.secretBox) {
      throw new ServiceUnavailableError(
        'Secret env values cannot be stored: the platform team has set no encryption key in app-config (paved.secrets.keys or paved.secrets.encryptionKey)',
      );
    }
    // Two first deploys of one app can both find no row; the loser's insert
    // conflicts and it retries as an update of the winner's row.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.writeAppOnce(write);
      } catch (error) {
        if (isDatabaseConflictError(error) && attempt < 3) continue;
        throw error;
      }
    }
  }

  private async writeAppOnce(write: AppWrite): Promise<WrittenApp> {
    const { tenant, name, actor } = write;
    return await this.db.transaction(async tx => {
      const tenantRow = await this.lockTenant(tx, tenant);
      const appQuery = tx(APPS).where({ tenant, name });
      if (tx.client.config.client === 'pg') appQuery.forUpdate();
      const row = await appQuery.first();
      const current = row && !row.deleting ? toApp(row) : undefined;
      if (write.expectedGeneration !== undefined) {
        const actual = current?.generation ?? 0;
        if (actual !== write.expectedGeneration) {
          throw new ConflictError(
            current
              ? `App ${tenant}/${name} changed since you read it (generation ${actual}, you sent expectedGeneration ${write.expectedGeneration}); read it again and retry`
              : `App ${tenant}/${name} does not exist, but you sent expectedGeneration ${write.expectedGeneration}; send 0 or leave it out to create it`,
          );
        }
      }
      if (!current && write.maxApps !== undefined) {
        const maxApps = write.maxApps(toTenant(tenantRow));
        const [{ count }] = await tx(APPS)
          .where({ tenant, deleting: false })
          .count({ count: '*' });
        if (Number(count) >= maxApps) {
          throw new ConflictError(
            `Tenant ${tenant} already has ${count} apps, the most its plan allows (maxApps ${maxApps}); delete an app or move the tenant to a bigger plan`,
          );
        }
      }
      const spec = write.spec(current);
      const secretsChanged = await this.checkEnvSize(tx, write, spec, current);
      const now = this.now();
      const revision = (row ? Number(row.revision) : 0) + 1;
      const generation = (row ? Number(row.generation) : 0) + 1;
      const values = {
        image: spec.image,
        spec: JSON.stringify(spec),
        revision,
        generation,
        deleting: false,
        last_error: null,
        updated_by: actor.ref,
        updated_at: now,
        // A new secret value rolls a new revision, so running instances
        // read it: Kubernetes does not restart pods when a Secret changes.
        ...(write.redeploy || secretsChanged
          ? { redeploy_token: crypto.randomBytes(8).toString('hex') }
          : {}),
      };
      if (row) {
        await tx(APPS).where({ tenant, name }).update(values);
        if (!current) {
          // Reviving a row that was waiting for deletion: start its life anew.
          await tx(APPS)
            .where({ tenant, name })
            .update({ created_by: actor.ref, created_at: now });
          await tx(SECRETS).where({ tenant, app: name }).delete();
        }
      } else {
        await tx(APPS).insert({
          tenant,
          name,
          ...values,
          applied_generation: 0,
          created_by: actor.ref,
          created_at: now,
        });
      }
      await this.writeSecrets(tx, write);
      await tx(REVISIONS).insert({
        tenant,
        app: name,
        revision,
        action: write.action,
        image: spec.image,
        spec: JSON.stringify(spec),
        actor: actor.ref,
        created_at: now,
      });
      await tx(REVISIONS)
        .where({ tenant, app: name })
        .andWhere('revision', '<=', revision - REVISIONS_KEPT)
        .delete();
      await this.audit(tx, actor, `app.${write.action}`, tenant, name, {
        revision,
        image: spec.image,
        ...write.detail,
      });
      const written = await tx(APPS).where({ tenant, name }).first();
      return { ...toApp(written), created: !current };
    });
  }

  /**
   * Refuses a write whose env, secret values included, would be over
   * ENV_TOTAL_MAX_BYTES; answers whether any secret value changes.
   */
  private async checkEnvSize(
    tx: Knex.Transaction,
    write: AppWrite,
    spec: AppSpec,
    current: AppRecord | undefined,
  ): Promise<boolean> {
    const stored = new Map<string, string>();
    if (current && this.secretBox) {
      const rows = await tx(SECRETS).where({
        tenant: write.tenant,
        app: write.name,
      });
      for (const row of rows) {
        stored.set(row.name, this.secretBox.decrypt(row.ciphertext));
      }
    }
    let bytes = 0;
    for (const entry of spec.env) {
      const value = entry.secretKeyRef
        ? write.secrets?.get(entry.name) ?? stored.get(entry.name) ?? ''
        : entry.value ?? '';
      bytes += Buffer.byteLength(entry.name) + Buffer.byteLength(value);
    }
    if (bytes > ENV_TOTAL_MAX_BYTES) {
      throw new PayloadTooLargeError(
        `App ${write.tenant}/${write.name} would hold ${bytes} bytes of env var names and values, over the limit of ${ENV_TOTAL_MAX_BYTES} bytes per app; remove env vars or move large values into a file in the image`,
      );
    }
    const kept = new Set(write.keepSecrets ?? []);
    const removed = [...stored.keys()].some(
      n => !kept.has(n) && !write.secrets?.has(n),
    );
    const changed = [...(write.secrets ?? [])].some(
      ([n, value]) => stored.get(n) !== value,
    );
    return removed || changed;
  }

  private async writeSecrets(tx: Knex.Transaction, write: AppWrite) {
    const keep = new Set([
      ...(write.keepSecrets ?? []),
      ...(write.secrets?.keys() ?? []),
    ]);
    const where = { tenant: write.tenant, app: write.name };
    const stored: Array<{ name: string }> = await tx(SECRETS)
      .where(where)
      .select('name');
    const gone = stored.map(s => s.name).filter(n => !keep.has(n));
    if (gone.length) {
      await tx(SECRETS).where(where).whereIn('name', gone).delete();
    }
    for (const [envName, value] of write.secrets ?? []) {
      const ciphertext = this.secretBox!.encrypt(value);
      await tx(SECRETS)
        .insert({ ...where, name: envName, ciphertext })
        .onConflict(['tenant', 'app', 'name'])
        .merge(['ciphertext']);
    }
  }

  async getSecrets(tenant: string, app: string): Promise<Map<string, string>> {
    const rows = await this.db(SECRETS).where({ tenant, app });
    const values = new Map<string, string>();
    if (rows.length && !this.secretBox) {
      throw new ServiceUnavailableError(
        'Secret env values cannot be read: no encryption key is set (paved.secrets.keys or paved.secrets.encryptionKey)',
      );
    }
    for (const row of rows) {
      values.set(row.name, this.secretBox!.decrypt(row.ciphertext));
    }
    return values;
  }

  async markAppDeleting(
    tenant: string,
    name: string,
    actor: Actor,
    options?: { expectedGeneration?: number },
  ): Promise<void> {
    await this.db.transaction(async tx => {
      await this.lockTenant(tx, tenant);
      const row = await tx(APPS).where({ tenant, name }).first();
      if (!row || row.deleting) {
        throw new NotFoundError(`App ${tenant}/${name} not found`);
      }
      checkGeneration(
        `App ${tenant}/${name}`,
        row,
        options?.expectedGeneration,
      );
      await tx(APPS)
        .where({ tenant, name })
        .update({
          deleting: true,
          generation: Number(row.generation) + 1,
          last_error: null,
          updated_by: actor.ref,
          updated_at: this.now(),
        });
      await this.audit(tx, actor, 'app.delete', tenant, name);
    });
  }

  // ---------------------------------------------------------------- history

  async listRevisions(tenant: string, app: string): Promise<RevisionRecord[]> {
    const rows = await this.db(REVISIONS)
      .where({ tenant, app })
      .orderBy('revision', 'desc')
      .limit(100);
    return rows.map(toRevision);
  }

  async getRevision(
    tenant: string,
    app: string,
    revision: number,
  ): Promise<RevisionRecord | undefined> {
    const row = await this.db(REVISIONS)
      .where({ tenant, app, revision })
      .first();
    return row ? toRevision(row) : undefined;
  }

  async listAudit(options: {
    tenant: string;
    app?: string;
    limit?: number;
  }): Promise<AuditRecord[]> {
    const query = this.db(AUDIT)
      .where({ tenant: options.tenant })
      .orderBy('id', 'desc')
      .limit(options.limit ?? 100);
    if (options.app) query.andWhere({ app: options.app });
    const rows = await query;
    return rows.map((row: any) => ({
      id: Number(row.id),
      at: iso(row.at),
      actor: row.actor,
      principalType: row.principal_type,
      action: row.action,
      tenant: row.tenant,
      app: row.app ?? undefined,
      detail: json(row.detail),
    }));
  }

  private async audit(
    tx: Knex.Transaction,
    actor: Actor,
    action: string,
    tenant: string,
    app?: string,
    detail?: Record<string, unknown>,
  ) {
    if (tenant.length > 63 || (app && app.length > 63)) {
      throw new InputError('Name too long for the audit log');
    }
    await tx(AUDIT).insert({
      at: this.now(),
      actor: actor.ref,
      principal_type: actor.principalType,
      action,
      tenant,
      app: app ?? null,
      detail: detail ? JSON.stringify(detail) : null,
    });
  }

  // --------------------------------------------------------------------- sync

  async listBehind(): Promise<BehindRows> {
    const tenants = await this.db(TENANTS)
      .whereRaw('applied_generation < generation')
      .orWhere('deleting', true)
      .orderBy('name');
    const apps = await this.db(APPS)
      .whereRaw('applied_generation < generation')
      .orWhere('deleting', true)
      .orderBy(['tenant', 'name']);
    return {
      tenants: tenants.map(toTenant),
      apps: apps.map(row => toApp(row)),
    };
  }

  async markTenantApplied(name: string, generation: number): Promise<void> {
    await this.db(TENANTS)
      .where({ name })
      .andWhere('applied_generation', '<', generation)
      .update({ applied_generation: generation });
    await this.db(TENANTS)
      .where({ name })
      .andWhere('applied_generation', '>=', this.db.ref('generation'))
      .update({ last_error: null });
  }

  async markAppApplied(
    tenant: string,
    name: string,
    generation: number,
  ): Promise<void> {
    await this.db(APPS)
      .where({ tenant, name })
      .andWhere('applied_generation', '<', generation)
      .update({ applied_generation: generation });
    await this.db(APPS)
      .where({ tenant, name })
      .andWhere('applied_generation', '>=', this.db.ref('generation'))
      .update({ last_error: null });
  }

  async markTenantFailed(name: string, error: string): Promise<void> {
    await this.db(TENANTS)
      .where({ name })
      .update({ last_error: error.slice(0, MAX_ERROR_LENGTH) });
  }

  async markAppFailed(
    tenant: string,
    name: string,
    error: string,
  ): Promise<void> {
    await this.db(APPS)
      .where({ tenant, name })
      .update({ last_error: error.slice(0, MAX_ERROR_LENGTH) });
  }

  async markSecretApplied(
    tenant: string,
    name: string,
    applied: boolean,
  ): Promise<void> {
    await this.db(APPS)
      .where({ tenant, name })
      .update({ secret_applied: applied });
  }

  async purgeTenant(name: string): Promise<void> {
    await this.db.transaction(async tx => {
      await tx(SECRETS).where({ tenant: name }).delete();
      await tx(REVISIONS).where({ tenant: name }).delete();
      await tx(APPS).where({ tenant: name }).delete();
      await tx(TENANTS).where({ name, deleting: true }).delete();
    });
  }

  async purgeApp(tenant: string, name: string): Promise<void> {
    await this.db.transaction(async tx => {
      const deleted = await tx(APPS)
        .where({ tenant, name, deleting: true })
        .delete();
      if (deleted) {
        await tx(SECRETS).where({ tenant, app: name }).delete();
        await tx(REVISIONS).where({ tenant, app: name }).delete();
      }
    });
  }
}

/** Throws 409 when the caller's expectedGeneration is not the row's. */
function checkGeneration(
  what: string,
  row: { generation: unknown },
  expectedGeneration: number | undefined,
) {
  if (
    expectedGeneration !== undefined &&
    Number(row.generation) !== expectedGeneration
  ) {
    throw new ConflictError(
      `${what} changed since you read it (generation ${row.generation}, you sent expectedGeneration ${expectedGeneration}); read it again and retry`,
    );
  }
}

function toRevision(row: any): RevisionRecord {
  return {
    tenant: row.tenant,
    app: row.app,
    revision: Number(row.revision),
    action: row.action,
    image: row.image,
    spec: json<AppSpec>(row.spec)!,
    actor: row.actor,
    createdAt: iso(row.created_at),
  };
}
