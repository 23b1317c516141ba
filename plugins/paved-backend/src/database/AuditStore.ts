import { InputError } from '@backstage/errors';
import type { Knex } from 'knex';
import type {
  Actor,
  AuditRecord,
  DeletedTenantRecord,
  PavedAuditStore,
  TenantFilter,
} from './PavedStore';
import {
  AUDIT,
  DELETED_TENANTS,
  TENANTS,
  applyTenantFilter,
  iso,
  json,
  nowIso,
} from './rows';

/**
 * The audit log: who did what to which tenant or app, and through which
 * client. Entries are written in the transaction of the change they
 * describe and belong to the tenant's uid, so they outlive the tenant and
 * a new tenant of the same name does not inherit them.
 */
export class AuditStore implements PavedAuditStore {
  constructor(private readonly db: Knex) {}

  async listAudit(options: {
    tenantUid: string;
    app?: string;
    limit: number;
    beforeId?: number;
  }): Promise<AuditRecord[]> {
    const query = this.db(AUDIT)
      .where({ tenant_uid: options.tenantUid })
      .orderBy('id', 'desc')
      .limit(options.limit);
    if (options.app) query.andWhere({ app: options.app });
    if (options.beforeId !== undefined) {
      query.andWhere('id', '<', options.beforeId);
    }
    const rows = await query;
    return rows.map((row: any) => ({
      id: Number(row.id),
      at: iso(row.at),
      actor: row.actor,
      principalType: row.principal_type,
      via: row.via,
      action: row.action,
      tenant: row.tenant,
      app: row.app ?? undefined,
      detail: json(row.detail),
    }));
  }

  /** Appends an entry in `tx` (one INSERT; the tenant's uid read in it). */
  async record(
    tx: Knex.Transaction,
    actor: Actor,
    action: string,
    tenant: string,
    app?: string,
    detail?: Record<string, unknown>,
  ): Promise<void> {
    if (tenant.length > 63 || (app && app.length > 63)) {
      throw new InputError('Name too long for the audit log');
    }
    await tx(AUDIT).insert({
      at: nowIso(),
      actor: actor.ref,
      principal_type: actor.principalType,
      via: actor.via ?? 'api',
      action,
      tenant,
      tenant_uid: tx(TENANTS).select('uid').where({ name: tenant }),
      app: app ?? null,
      detail: detail ? JSON.stringify(detail) : null,
    });
  }

  /** Keeps what the history of a tenant being purged needs (in the purge's `tx`). */
  async rememberDeletedTenant(
    tx: Knex.Transaction,
    name: string,
  ): Promise<void> {
    const row = await tx(TENANTS).where({ name, deleting: true }).first();
    if (!row?.uid) return;
    await tx(DELETED_TENANTS)
      .insert({
        uid: row.uid,
        name: row.name,
        display_name: row.display_name,
        owner: row.owner,
        created_at: row.created_at,
        deleted_at: nowIso(),
      })
      .onConflict('uid')
      .ignore();
  }

  async listDeletedTenants(options: {
    filter?: TenantFilter;
  }): Promise<DeletedTenantRecord[]> {
    const query = this.db(DELETED_TENANTS).orderBy('deleted_at', 'desc');
    if (options.filter) {
      applyTenantFilter(query, options.filter, {
        owner: 'owner',
        name: 'name',
      });
    }
    return (await query).map(toDeletedTenant);
  }

  async getDeletedTenant(
    uid: string,
  ): Promise<DeletedTenantRecord | undefined> {
    const row = await this.db(DELETED_TENANTS).where({ uid }).first();
    return row ? toDeletedTenant(row) : undefined;
  }
}

function toDeletedTenant(row: any): DeletedTenantRecord {
  return {
    uid: row.uid,
    name: row.name,
    displayName: row.display_name,
    owner: row.owner,
    createdAt: iso(row.created_at),
    deletedAt: iso(row.deleted_at),
  };
}
