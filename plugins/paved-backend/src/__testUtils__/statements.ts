import type { Knex } from 'knex';

/** One SQL statement the client sent, and whether it ran in a transaction. */
export interface Statement {
  sql: string;
  inTransaction: boolean;
}

/**
 * Records every statement `knex` sends (its `query` event, which also fires
 * for statements in transactions) while `work` runs.
 */
export async function statementsOf(
  knex: Knex,
  work: () => Promise<unknown>,
): Promise<Statement[]> {
  const seen: Statement[] = [];
  const listener = (query: any) =>
    seen.push({ sql: String(query.sql), inTransaction: !!query.__knexTxId });
  knex.on('query', listener);
  try {
    await work();
  } finally {
    knex.removeListener('query', listener);
  }
  return seen;
}

/** Statements that read (`select`) or write (`insert`/`update`/`delete`) `table`. */
export function touching(
  statements: Statement[],
  table: string,
  kind: 'read' | 'write',
): Statement[] {
  const quoted = new RegExp(`["\`]${table}["\`]`);
  return statements.filter(s => {
    const sql = s.sql.trim().toLowerCase();
    if (!quoted.test(s.sql)) return false;
    if (kind === 'read') return sql.startsWith('select');
    return /^(insert|update|delete)/.test(sql);
  });
}
