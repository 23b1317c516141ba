import { InputError } from '@backstage/errors';
import type { Knex } from 'knex';
import type { Actor, AuditRecord, PavedAuditStore } from './PavedStore';
import { AUDIT, iso, json, nowIso } from './rows';

/** The audit log: who did what to which tenant or app. Entries are written in the transaction of the change they describe. */
export class AuditStore implements PavedAuditStore {
  constructor(private readonly db: Knex) {}

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

  /** Appends an entry in `tx` (one INSERT). */
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
      action,
      tenant,
      app: app ?? null,
      detail: detail ? JSON.stringify(detail) : null,
    });
  }
}
