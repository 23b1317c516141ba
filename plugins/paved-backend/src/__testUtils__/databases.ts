import { TestDatabases } from '@backstage/backend-test-utils';

/**
 * The databases Paved is tested on: SQLite always, PostgreSQL 15 when
 * PAVED_POSTGRES_URL names a server (scripts/test.sh starts one).
 */
export function pavedTestDatabases(): TestDatabases {
  const databases = TestDatabases.create({
    ids: ['POSTGRES_15', 'SQLITE_3'],
  });
  if (!databases.supports('POSTGRES_15')) {
    // eslint-disable-next-line no-console
    console.warn(
      'PostgreSQL cases skipped: PAVED_POSTGRES_URL is not set (scripts/test.sh sets it; or run `source scripts/lib.sh; source scripts/postgres.sh; start_postgres /tmp/pg`)',
    );
  }
  return databases;
}
