/**
 * The per-identity write rate limit, with two backend replicas on one
 * database: the count is shared, so a caller cannot double their budget by
 * landing on another replica.
 */
import { pavedTestDatabases } from '../__testUtils__/databases';
import { statementsOf } from '../__testUtils__/statements';
import { WriteRateLimiter } from './rateLimit';
import {
  ALICE,
  BOB,
  PavedTestBackend,
  TEAM_A,
  TEAM_B,
  startPavedBackend,
} from '../testUtils/backend';

jest.setTimeout(120_000);

const databases = pavedTestDatabases();
const LIMIT = 6;

describe.each(databases.eachSupportedId())('write rate limit on %s', id => {
  let replicas: PavedTestBackend[];
  let knex: Awaited<ReturnType<typeof databases.init>>;

  beforeAll(async () => {
    knex = await databases.init(id);
    const config = {
      paved: { rateLimit: { writes: LIMIT, windowSeconds: 60 } },
    };
    replicas = [
      await startPavedBackend({ knex, config }),
      await startPavedBackend({ knex, config }),
    ];
  });
  afterAll(() => Promise.all(replicas?.map(r => r.stop()) ?? []));

  it('answers 429 with Retry-After once one identity wrote too much, across replicas, and only for that identity', async () => {
    const [one, two] = replicas;
    const created = await one.request
      .post('/api/paved/tenants')
      .set('authorization', one.as(ALICE))
      .send({ name: 'busy', displayName: 'Busy', owner: TEAM_A });
    expect(created.status).toBe(201);
    const statuses: number[] = [];
    for (let i = 1; i < LIMIT; i++) {
      // Alternating replicas, and a refused write counts too.
      const replica = i % 2 ? two : one;
      const res = await replica.request
        .put('/api/paved/tenants/busy/apps/web')
        .set('authorization', replica.as(ALICE))
        .send(i === 3 ? { image: 'no-tag' } : { image: `web:${i}` });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([201, 200, 400, 200, 200]);

    const limited = await two.request
      .put('/api/paved/tenants/busy/apps/web')
      .set('authorization', two.as(ALICE))
      .send({ image: 'web:99' });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.body).toEqual({
      error: {
        name: 'TooManyRequestsError',
        message: `Too many writes: ${ALICE} made more than ${LIMIT} in 60 seconds (paved.rateLimit); retry after ${retryAfter} seconds`,
      },
      response: { statusCode: 429 },
    });
    // The refused write changed nothing.
    const app = await one.request
      .get('/api/paved/tenants/busy/apps/web')
      .set('authorization', one.as(ALICE));
    expect(app.body.image).toBe('web:5');

    // Reads are not limited; another identity is not limited by Alice.
    expect(
      (
        await one.request
          .get('/api/paved/tenants/busy')
          .set('authorization', one.as(ALICE))
      ).status,
    ).toBe(200);
    const bob = await one.request
      .post('/api/paved/tenants')
      .set('authorization', one.as(BOB))
      .send({ name: 'calm', displayName: 'Calm', owner: TEAM_B });
    expect(bob.status).toBe(201);
  });

  it('counts a write in one statement, and refuses the one over the limit', async () => {
    let now = 120_000;
    const limiter = new WriteRateLimiter(
      knex,
      { limit: 2, windowSeconds: 60 },
      () => now,
    );
    // The first take of a window also drops ended windows (once a window).
    await limiter.take('user:default/counted');
    now += 1;
    const second = await statementsOf(knex, () =>
      limiter.take('user:default/counted'),
    );
    expect(second.map(s => s.sql)).toEqual([
      expect.stringMatching(/^insert into .*on conflict.*returning/i),
    ]);
    await expect(limiter.take('user:default/counted')).rejects.toMatchObject({
      name: 'TooManyRequestsError',
    });
    // A new window starts a new count.
    now += 60_000;
    await expect(limiter.take('user:default/counted')).resolves.toBeUndefined();
  });
});
