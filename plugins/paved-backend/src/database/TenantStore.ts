import { isDatabaseConflictError } from '@backstage/backend-plugin-api';
import { ConflictError } from '@backstage/errors';
import type { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { AuditStore } from './AuditStore';
import type {
  Actor,
  PavedTenantStore,
  TenantCreate,
  TenantFilter,
  TenantRecord,
  TenantUpdate,
  TenantUpdateOptions,
} from './PavedStore';
import {
  APPS,
  MAX_ERROR_LENGTH,
  SECRETS,
  REVISIONS,
  TENANTS,
  applyTenantFilter,
  checkGeneration,
  inTransaction,
  lockTenant,
  markApplied,
  nowIso,
  toTenant,
} from './rows';

/**
 * A tenant as `update` would leave it: the one place a patch is applied,
 * used both for what a check sees and for what is written.
 */
export function applyUpdate(
  current: TenantRecord,
  update: TenantUpdate,
): TenantRecord {
  const next: TenantRecord = { ...current };
  if (update.displayName !== undefined) next.displayName = update.displayName;
  if (update.plan !== undefined) next.plan = update.plan;
  if (update.limits !== undefined) next.limits = update.limits ?? undefined;
  if (update.networkIsolation !== undefined) {
    next.networkIsolation = update.networkIsolation;
  }
  return next;
}

/** The columns users change, from a record. */
function tenantColumns(tenant: TenantRecord) {
  return {
    display_name: tenant.displayName,
    plan: tenant.plan,
    limits: tenant.limits ? JSON.stringify(tenant.limits) : null,
    network_isolation: tenant.networkIsolation,
  };
}

async function countLiveApps(db: Knex, tenant: string): Promise<number> {
  const [{ count }] = await db(APPS)
    .where({ tenant, deleting: false })
    .count({ count: '*' });
  return Number(count);
}

/** Tenants: their rows, and the sync bookkeeping on them. */
export class TenantStore implements PavedTenantStore {
  constructor(private readonly db: Knex, private readonly audit: AuditStore) {}

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

  async getTenants(names: string[]): Promise<Array<TenantRecord | undefined>> {
    if (names.length === 0) return [];
    const rows = await this.db(TENANTS).whereIn('name', [...new Set(names)]);
    const byName = new Map(rows.map((row: any) => [row.name, toTenant(row)]));
    return names.map(name => byName.get(name));
  }

  async createTenant(input: TenantCreate, actor: Actor): Promise<TenantRecord> {
    const now = nowIso();
    const row = {
      name: input.name,
      uid: randomUUID(),
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
    };
    try {
      await inTransaction(this.db, async tx => {
        const existing = await tx(TENANTS)
          .where({ name: input.name })
          .first('deleting');
        if (existing) {
          throw new ConflictError(
            existing.deleting
              ? `Tenant ${input.name} is being deleted; create it again once it is gone`
              : `Tenant ${input.name} already exists; choose another name`,
          );
        }
        await tx(TENANTS).insert(row);
        await this.audit.record(
          tx,
          actor,
          'tenant.create',
          input.name,
          undefined,
          {
            owner: input.owner,
            plan: input.plan,
          },
        );
      });
    } catch (error) {
      if (isDatabaseConflictError(error)) {
        throw new ConflictError(
          `Tenant ${input.name} already exists; choose another name`,
        );
      }
      throw error;
    }
    return toTenant(row);
  }

  async updateTenant(
    name: string,
    update: TenantUpdate,
    options: TenantUpdateOptions,
  ): Promise<TenantRecord> {
    return await inTransaction(this.db, async tx => {
      const row = await lockTenant(tx, name);
      checkGeneration(`Tenant ${name}`, row, options.expectedGeneration);
      const current = toTenant(row);
      const next: TenantRecord = {
        ...applyUpdate(current, update),
        generation: current.generation + 1,
        updatedAt: nowIso(),
        lastError: undefined,
      };
      // With the tenant locked: a deploy cannot add an app between this
      // count and the change.
      options.check?.(next, await countLiveApps(tx, name));
      await tx(TENANTS)
        .where({ name })
        .update({
          ...tenantColumns(next),
          generation: next.generation,
          updated_at: next.updatedAt,
          last_error: null,
        });
      await this.audit.record(
        tx,
        options.actor,
        'tenant.update',
        name,
        undefined,
        {
          ...update,
        },
      );
      return next;
    });
  }

  async markTenantDeleting(
    name: string,
    actor: Actor,
    options?: { expectedGeneration?: number },
  ): Promise<TenantRecord> {
    return await inTransaction(this.db, async tx => {
      const row = await lockTenant(tx, name);
      checkGeneration(`Tenant ${name}`, row, options?.expectedGeneration);
      const next: TenantRecord = {
        ...toTenant(row),
        deleting: true,
        generation: Number(row.generation) + 1,
        updatedAt: nowIso(),
        lastError: undefined,
      };
      await tx(TENANTS).where({ name }).update({
        deleting: true,
        generation: next.generation,
        updated_at: next.updatedAt,
        last_error: null,
      });
      // The operator deletes the tenant's apps with the tenant; the rows go
      // when the tenant row is purged (ON DELETE CASCADE).
      await tx(APPS).where({ tenant: name }).update({ deleting: true });
      await this.audit.record(tx, actor, 'tenant.delete', name);
      return next;
    });
  }

  async countApps(tenant: string): Promise<number> {
    return countLiveApps(this.db, tenant);
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

  /** Tenants whose applied generation is behind, or being deleted. */
  async listBehindTenants(): Promise<TenantRecord[]> {
    const rows = await this.db(TENANTS)
      .whereRaw('applied_generation < generation')
      .orWhere('deleting', true)
      .orderBy('name');
    return rows.map(toTenant);
  }

  async markTenantApplied(
    name: string,
    generation: number,
  ): Promise<TenantRecord | undefined> {
    const row = await markApplied(this.db, TENANTS, { name }, generation);
    return row ? toTenant(row) : undefined;
  }

  async markTenantFailed(name: string, error: string): Promise<void> {
    await this.db(TENANTS)
      .where({ name })
      .update({ last_error: error.slice(0, MAX_ERROR_LENGTH) });
  }

  async purgeTenant(name: string): Promise<void> {
    await inTransaction(this.db, async tx => {
      await tx(SECRETS).where({ tenant: name }).delete();
      await tx(REVISIONS).where({ tenant: name }).delete();
      await tx(APPS).where({ tenant: name }).delete();
      await this.audit.rememberDeletedTenant(tx, name);
      await tx(TENANTS).where({ name, deleting: true }).delete();
    });
  }
}
