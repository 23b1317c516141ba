import { Knex } from 'knex';
import { pavedTestDatabases } from '../__testUtils__/databases';
import { Statement, statementsOf, touching } from '../__testUtils__/statements';
import {
  ALICE,
  PavedTestBackend,
  TEAM_A,
  startPavedBackend,
} from '../testUtils/backend';

jest.setTimeout(120_000);

const databases = pavedTestDatabases();

/**
 * Counts, with knex's `query` event, what one app write sends: statements in
 * its transaction, and reads (not the maxApps count) and writes of the app
 * row there and in the whole request (the rate limit, the access check, the
 * apply without a cluster and the answer included), and reads of the tenant
 * row. Before the services and the store split the transaction read the row
 * twice (and the request five times): 11 statements in the transaction, 18
 * in the request; before the access check moved into the transaction the
 * tenant row was read once more, before it, and before the answer went by
 * the row the sync returned, the app row once more after the sync.
 */
function appRowUse(all: Statement[]) {
  // The scheduler's own polling (its tasks table; the sync job does nothing
  // without a cluster) can land during a request: not the write's.
  const statements = all.filter(s => !/backstage_backend_tasks/.test(s.sql));
  const inTx = statements.filter(s => s.inTransaction);
  return {
    reads: touching(inTx, 'paved_apps', 'read').filter(
      s => !/count\(/i.test(s.sql),
    ).length,
    writes: touching(inTx, 'paved_apps', 'write').length,
    inTransaction: inTx.length,
    total: statements.length,
    requestReads: touching(statements, 'paved_apps', 'read').filter(
      s => !/count\(/i.test(s.sql),
    ).length,
    requestWrites: touching(statements, 'paved_apps', 'write').length,
    tenantReads: touching(statements, 'paved_tenants', 'read').length,
  };
}

describe.each(databases.eachSupportedId())(
  'statements per app write on %s',
  id => {
    let knex: Knex;
    let backend: PavedTestBackend;

    beforeAll(async () => {
      knex = await databases.init(id);
      backend = await startPavedBackend({ knex });
      const res = await backend.request
        .post('/api/paved/tenants')
        .set('authorization', backend.as(ALICE))
        .send({ name: 'count', displayName: 'Count', owner: TEAM_A });
      if (res.status !== 201) {
        throw new Error(`creating the tenant: ${res.status} ${res.text}`);
      }
    });
    afterAll(() => backend?.stop());

    const path = '/api/paved/tenants/count/apps/web';
    // Label, request, status, statements in the whole request.
    const writes: Array<[string, () => any, number, number]> = [
      [
        'deploy (new)',
        () =>
          backend.request
            .put(path)
            .send({ image: 'nginx:1', env: [{ name: 'A', value: '1' }] }),
        201,
        11,
      ],
      [
        'deploy (existing, a secret)',
        () =>
          backend.request.put(path).send({
            image: 'nginx:2',
            env: [
              { name: 'A', value: '1' },
              { name: 'TOKEN', value: 's3cret', secret: true },
            ],
          }),
        200,
        12,
      ],
      [
        'patch env',
        () =>
          backend.request
            .patch(`${path}/env`)
            .send({ set: [{ name: 'B', value: '2' }] }),
        200,
        11,
      ],
      ['pause', () => backend.request.post(`${path}/pause`).send({}), 200, 11],
      [
        'resume',
        () => backend.request.post(`${path}/resume`).send({}),
        200,
        11,
      ],
      [
        'redeploy',
        () => backend.request.post(`${path}/redeploy`).send({}),
        200,
        11,
      ],
      [
        'rollback',
        () => backend.request.post(`${path}/rollback`).send({ revision: 2 }),
        200,
        // One more: the revision rolled back to, read before the transaction.
        12,
      ],
    ];

    it.each(writes)(
      '%s reads the app row once and writes it once in its transaction',
      async (label, send, status, total) => {
        let answer: any;
        const statements = await statementsOf(knex, async () => {
          answer = await send().set('authorization', backend.as(ALICE));
        });
        expect(answer.status).toBe(status);
        console.log(
          statements
            .map(s => `${s.inTransaction ? 'tx ' : '   '}${s.sql}`)
            .join('\n'),
        );
        const use = appRowUse(statements);
        // eslint-disable-next-line no-console
        console.log(
          `${id} ${label}: ${use.total} statements, ${use.inTransaction} in the transaction, app row read ${use.reads}x and written ${use.writes}x there (${use.requestReads}x and ${use.requestWrites}x in the whole request, sync included)`,
        );
        expect({
          reads: use.reads,
          writes: use.writes,
          // BEGIN, tenant lock, app row, [maxApps count], [secrets read and
          // upsert], app write, revision, audit, COMMIT.
          inTransactionAtMost9: use.inTransaction <= 9,
          // The transaction's read and the apply's; the answer goes by the
          // row as the apply's last statement returned it.
          requestReadsAtMost2: use.requestReads <= 2,
          // Locked in the transaction, where the access check reads it.
          tenantReads: use.tenantReads,
          total: use.total,
        }).toEqual({
          reads: 1,
          writes: 1,
          inTransactionAtMost9: true,
          requestReadsAtMost2: true,
          tenantReads: 1,
          total,
        });
      },
    );
  },
);
