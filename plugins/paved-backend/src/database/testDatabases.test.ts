import { pavedTestDatabases } from '../__testUtils__/databases';

const VARIABLE = 'BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING';

/** What pavedTestDatabases does with no PostgreSQL server, in `env`. */
function withoutPostgres(env: NodeJS.ProcessEnv) {
  const saved = process.env[VARIABLE];
  delete process.env[VARIABLE];
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  try {
    const databases = pavedTestDatabases(env);
    return {
      ids: databases.eachSupportedId().map(([id]) => id),
      warned: warn.mock.calls.map(call => String(call[0])),
    };
  } catch (error) {
    return { error: error as Error };
  } finally {
    warn.mockRestore();
    if (saved !== undefined) process.env[VARIABLE] = saved;
  }
}

// Collected at definition time: TestDatabases.create registers hooks.
const underCi = withoutPostgres({ CI: 'true' });
const underEmptyCi = withoutPostgres({ CI: '' });
const locally = withoutPostgres({});

describe('the test databases without PostgreSQL', () => {
  it('fail under CI, saying how to start one', () => {
    expect(underCi).toEqual({
      error: expect.objectContaining({
        message: expect.stringMatching(
          /PAVED_POSTGRES_URL is not.*scripts\/postgres\.sh; start_postgres/,
        ),
      }),
    });
    expect(underEmptyCi).toEqual({ error: expect.any(Error) });
  });

  it('skip PostgreSQL with a warning elsewhere, and still run SQLite', () => {
    expect(locally).toEqual({
      ids: ['SQLITE_3'],
      warned: [expect.stringMatching(/PostgreSQL cases skipped.*postgres\.sh/)],
    });
  });
});
