/**
 * What every store file shares: table names, row ⇄ record mapping, the
 * transaction helper and the row lock, the permission filter as SQL.
 */
import { ConflictError, NotFoundError } from '@backstage/errors';
import {
  isAndCriteria,
  isNotCriteria,
  isOrCriteria,
} from '@backstage/plugin-permission-node';
import type { AppSpec } from '@paved/plugin-paved-common';
import type { Knex } from 'knex';
import type {
  AppRecord,
  RevisionRecord,
  TenantFilter,
  TenantRecord,
} from './PavedStore';

export const TENANTS = 'paved_tenants';
export const APPS = 'paved_apps';
export const SECRETS = 'paved_app_secrets';
export const REVISIONS = 'paved_app_revisions';
export const AUDIT = 'paved_audit_log';
export const DELETED_TENANTS = 'paved_deleted_tenants';

/** Longest error text kept per row; the rest is in the logs. */
export const MAX_ERROR_LENGTH = 2000;

export function nowIso(): string {
  return new Date().toISOString();
}

/** A timestamp as toISOString() writes it (how rows store them on SQLite). */
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function iso(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  const text = String(value);
  // Already in the one form: no Date to parse (lists read thousands).
  return ISO_UTC.test(text) ? text : new Date(text).toISOString();
}

export function json<T>(value: unknown): T | undefined {
  if (value === null || value === undefined) return undefined;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/**
 * Runs `work` in one transaction of `db`. Every store's writes go through
 * here, so a write that spans stores (an app write records a revision and an
 * audit entry) passes the same `tx` to each.
 */
export function inTransaction<T>(
  db: Knex,
  work: (tx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  return db.transaction(work);
}

/** Locks the rows a query reads for the transaction, where the database can (PostgreSQL; SQLite serialises writers). */
export function locked<Q extends Knex.QueryBuilder>(
  tx: Knex.Transaction,
  query: Q,
): Q {
  if (tx.client.config.client === 'pg') query.forUpdate();
  return query;
}

/** Reads a live tenant row, locked for the transaction; 404 when it is missing or being deleted. */
export async function lockTenant(tx: Knex.Transaction, name: string) {
  const row = await locked(tx, tx(TENANTS).where({ name })).first();
  if (!row || row.deleting) {
    throw new NotFoundError(`Tenant ${name} not found`);
  }
  return row;
}

/**
 * Records that the cluster accepted `generation` of the row `where` selects
 * in `table` (never moving backwards) and clears its last error once it is
 * in step, in one statement that returns the row as it left it (undefined
 * when there is none): the sync goes by that row instead of reading it
 * again. SET expressions see the row as it was, hence the CASE twice.
 */
export async function markApplied(
  db: Knex,
  table: string,
  where: Record<string, string>,
  generation: number,
): Promise<any | undefined> {
  const applied =
    'CASE WHEN applied_generation < ? THEN ? ELSE applied_generation END';
  const [row] = await db(table)
    .where(where)
    .update(
      {
        applied_generation: db.raw(applied, [generation, generation]),
        last_error: db.raw(
          `CASE WHEN ${applied} >= generation THEN NULL ELSE last_error END`,
          [generation, generation],
        ),
      },
      '*',
    );
  return row;
}

/** Throws 409 when the caller's expectedGeneration is not the row's. */
export function checkGeneration(
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

export function toTenant(row: any): TenantRecord {
  return {
    name: row.name,
    uid: row.uid,
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

export type SpecCache = Map<string, { stamp: string; spec: AppSpec }>;
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

export function toApp(row: any, cache?: SpecCache): AppRecord {
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

export function toRevision(row: any): RevisionRecord {
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

/** Turns a permission filter into a where clause on the tenants table. */
export function applyTenantFilter(
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
