/**
 * Tests run against real databases. `scripts/test.sh` starts PostgreSQL 15
 * and exports PAVED_POSTGRES_URL; Backstage's TestDatabases picks up a running
 * server from BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING. Docker is
 * never used here.
 */
process.env.BACKSTAGE_TEST_DISABLE_DOCKER = '1';
if (
  process.env.PAVED_POSTGRES_URL &&
  !process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING
) {
  process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING =
    process.env.PAVED_POSTGRES_URL;
}

export {};
