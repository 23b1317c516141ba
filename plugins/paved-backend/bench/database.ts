/**
 * The benchmarks' database: a fresh PostgreSQL database when
 * PAVED_POSTGRES_URL is set (dropped afterwards), else SQLite in memory.
 */
import knexFactory, { Knex } from 'knex';

export async function benchDatabase(prefix: string): Promise<{
  knex: Knex;
  label: string;
  drop(): Promise<void>;
}> {
  const url = process.env.PAVED_POSTGRES_URL;
  if (!url) {
    return {
      knex: knexFactory({
        client: 'better-sqlite3',
        connection: ':memory:',
        useNullAsDefault: true,
      }),
      label: 'SQLite (in memory)',
      drop: async () => {},
    };
  }
  const name = `${prefix}_${Date.now()}`;
  const admin = knexFactory({ client: 'pg', connection: url });
  await admin.raw(`CREATE DATABASE ${name}`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  const knex = knexFactory({
    client: 'pg',
    connection: target.toString(),
    pool: { min: 0, max: 10 },
  });
  return {
    knex,
    label: 'PostgreSQL',
    drop: async () => {
      await knex.destroy();
      await admin.raw(`DROP DATABASE ${name}`);
      await admin.destroy();
    },
  };
}
