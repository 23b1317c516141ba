// The Paved backend these tests start runs on real databases; see
// plugins/paved-backend/src/setupTests.ts for how PostgreSQL is found.
process.env.BACKSTAGE_TEST_DISABLE_DOCKER = '1';
export {};
