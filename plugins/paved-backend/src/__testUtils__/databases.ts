import { TestDatabases } from '@backstage/backend-test-utils';

const HOW_TO_START =
  'start one with `source scripts/lib.sh; source scripts/postgres.sh; start_postgres /tmp/pg` (it exports PAVED_POSTGRES_URL; scripts/test.sh does this)';

/**
 * The databases Paved is tested on: SQLite always, PostgreSQL 15 when
 * PAVED_POSTGRES_URL names a server. Locally a missing server skips the
 * PostgreSQL cases with a warning; under CI (CI set to anything) it fails
 * the suite instead, so a CI run without PostgreSQL cannot pass on SQLite
 * alone.
 */
export function pavedTestDatabases(
  env: NodeJS.ProcessEnv = process.env,
): TestDatabases {
  const databases = TestDatabases.create({
    ids: ['POSTGRES_15', 'SQLITE_3'],
  });
  if (!databases.supports('POSTGRES_15')) {
    if (env.CI !== undefined) {
      throw new Error(
        `This suite runs on PostgreSQL too, and CI is set but PAVED_POSTGRES_URL is not: ${HOW_TO_START}`,
      );
    }
    // eslint-disable-next-line no-console
    console.warn(
      `PostgreSQL cases skipped: PAVED_POSTGRES_URL is not set; ${HOW_TO_START}`,
    );
  }
  return databases;
}
