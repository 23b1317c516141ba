/**
 * The short fault run CI makes: one seeded run of the harness, small (5
 * tenants × 3 apps), with every kind of fault during the load and once more
 * measured after it. The long runs are `yarn workspace @paved/fault-harness
 * faults` (README.md).
 */
import { defectsOf, FaultHarness, RunResult } from './harness';

const postgresUrl = process.env.PAVED_POSTGRES_URL;
if (!postgresUrl && process.env.CI !== undefined) {
  throw new Error(
    'The fault run needs PostgreSQL (two backend replicas share it), and CI is set but PAVED_POSTGRES_URL is not; scripts/test.sh starts one',
  );
}
const describeWithPostgres = postgresUrl ? describe : describe.skip;

describeWithPostgres('faults under load (short run)', () => {
  let harness: FaultHarness | undefined;
  const lines: string[] = [];

  beforeAll(async () => {
    harness = await FaultHarness.start({
      tenants: 5,
      apps: 3,
      faultsPerRun: 4,
      concurrency: 4,
      burst: 5,
      settleTimeoutMs: 180_000,
      postgresUrl: postgresUrl!,
      log: line => lines.push(line),
    });
  }, 10 * 60_000);

  afterAll(async () => {
    await harness?.stop();
  }, 120_000);

  it(
    'loses no acknowledged write and leaves nothing behind, whatever is killed',
    async () => {
      let result: RunResult;
      try {
        result = await harness!.run(20261202);
      } finally {
        // What happened, for whoever reads a failure.
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      expect(defectsOf(result)).toEqual([]);
      // It did write, and every kind of fault happened and was survived.
      expect(result.writes.acknowledged).toBeGreaterThan(5 * 3);
      expect(new Set(result.faults.map(f => f.kind))).toEqual(
        new Set(harness!.kinds),
      );
      for (const kind of harness!.kinds) {
        expect(result.converge[kind]).toEqual(expect.any(Number));
      }
      expect(result.deleteAllMs).toEqual(expect.any(Number));
    },
    20 * 60_000,
  );
});
