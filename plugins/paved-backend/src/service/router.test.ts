import fc from 'fast-check';
import {
  SECRET_MASK,
  tenantNameProblem,
  deployAppRequestSchema,
} from '@paved/plugin-paved-common';
import { REVISIONS_KEPT } from '../database/PavedStore';
import { pavedTestDatabases } from '../__testUtils__/databases';
import {
  ALICE,
  BOB,
  ROOT,
  PavedTestBackend,
  TEAM_A,
  TEAM_B,
  startPavedBackend,
} from '../testUtils/backend';

jest.setTimeout(120_000);

const databases = pavedTestDatabases();

describe.each(databases.eachSupportedId())('Paved REST API on %s', id => {
  let backend: PavedTestBackend;

  beforeAll(async () => {
    const knex = await databases.init(id);
    backend = await startPavedBackend({
      knex,
      config: {
        paved: {
          plans: {
            tiny: { cpu: '1', memory: '1Gi', maxApps: 2 },
            single: { cpu: '1', memory: '1Gi', maxApps: 1 },
          },
        },
      },
    });
  });
  afterAll(() => backend?.stop());

  const api = () => backend.request;
  const asAlice = () => backend.as(ALICE);
  const asBob = () => backend.as(BOB);

  async function createTenant(name: string, owner = TEAM_A, plan = 'free') {
    const res = await api()
      .post('/api/paved/tenants')
      .set('authorization', owner === TEAM_A ? asAlice() : asBob())
      .send({ name, displayName: `Tenant ${name}`, owner, plan });
    expect(res.status).toBe(201);
    return res.body;
  }

  it('serves plans and the OpenAPI document without a token', async () => {
    const plans = await api().get('/api/paved/plans');
    expect(plans.status).toBe(200);
    expect(plans.body.items.map((p: any) => p.name)).toEqual([
      'free',
      'starter',
      'pro',
      'enterprise',
      'tiny',
      'single',
    ]);
    const doc = await api().get('/api/paved/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(
      (await api().get('/api/paved/tenants').set('authorization', 'Bearer x'))
        .status,
    ).toBe(401);
  });

  it('creates a tenant; with no cluster the write waits and status is unknown', async () => {
    const tenant = await createTenant('alpha');
    expect(tenant).toMatchObject({
      name: 'alpha',
      owner: TEAM_A,
      plan: 'free',
      namespace: 'tenant-alpha',
      effectiveLimits: { cpu: '1500m', memory: '1536Mi', maxApps: 3 },
      appCount: 0,
      createdBy: ALICE,
      sync: { generation: 1, appliedGeneration: 0, pending: true },
      status: { known: false },
    });
    expect(tenant.sync.lastError).toMatch(/^No cluster is configured/);
    const again = await api()
      .post('/api/paved/tenants')
      .set('authorization', asAlice())
      .send({ name: 'alpha', displayName: 'Again', owner: TEAM_A });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/already exists/);
  });

  it('rejects an unknown plan, listing the known ones', async () => {
    const res = await api()
      .post('/api/paved/tenants')
      .set('authorization', asAlice())
      .send({ name: 'gold', displayName: 'G', owner: TEAM_A, plan: 'gold' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe(
      'Invalid plan: "gold" is not a plan; choose one of free, starter, pro, enterprise, tiny, single',
    );
  });

  it('deploys, updates, patches env, pauses, resumes, redeploys and rolls back an app', async () => {
    await createTenant('shop');
    const path = '/api/paved/tenants/shop/apps/web';
    const created = await api()
      .put(path)
      .set('authorization', asAlice())
      .send({
        image: 'nginx:1.27',
        port: 8080,
        env: [
          { name: 'MODE', value: 'prod' },
          { name: 'API_KEY', value: 'very-secret', secret: true },
        ],
      });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      ref: 'shop/web',
      image: 'nginx:1.27',
      revision: 1,
      env: [
        { name: 'MODE', value: 'prod', secret: false },
        { name: 'API_KEY', value: SECRET_MASK, secret: true },
      ],
      scaling: { minInstances: 0, maxInstances: 10, targetConcurrency: 100 },
      status: { known: false },
      sync: { pending: true },
    });
    expect(JSON.stringify(created.body)).not.toContain('very-secret');

    // A stale expectedGeneration is refused and changes nothing.
    const stale = await api()
      .put(path)
      .set('authorization', asAlice())
      .send({ image: 'nginx:9.9', expectedGeneration: 7 });
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toMatch(/changed since you read it/);

    const updated = await api()
      .put(path)
      .set('authorization', asAlice())
      .send({
        image: 'nginx:1.28',
        env: [
          { name: 'MODE', value: 'prod' },
          { name: 'API_KEY', value: SECRET_MASK, secret: true },
        ],
        expectedGeneration: 1,
      });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ image: 'nginx:1.28', revision: 2 });
    expect(updated.body.env[1]).toEqual({
      name: 'API_KEY',
      value: SECRET_MASK,
      secret: true,
    });

    const patched = await api()
      .patch(`${path}/env`)
      .set('authorization', asAlice())
      .send({ set: [{ name: 'LOG', value: 'debug' }], remove: ['MODE'] });
    expect(patched.status).toBe(200);
    expect(patched.body.env.map((e: any) => e.name)).toEqual([
      'API_KEY',
      'LOG',
    ]);

    const paused = await api()
      .post(`${path}/pause`)
      .set('authorization', asAlice())
      .send({});
    expect(paused.body).toMatchObject({ paused: true, revision: 4 });
    const resumed = await api()
      .post(`${path}/resume`)
      .set('authorization', asAlice());
    expect(resumed.body).toMatchObject({ paused: false, revision: 5 });
    const redeployed = await api()
      .post(`${path}/redeploy`)
      .set('authorization', asAlice());
    expect(redeployed.body).toMatchObject({
      image: 'nginx:1.28',
      revision: 6,
    });

    const rolledBack = await api()
      .post(`${path}/rollback`)
      .set('authorization', asAlice())
      .send({ revision: 1 });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.body).toMatchObject({ image: 'nginx:1.27', revision: 7 });
    expect(rolledBack.body.env.map((e: any) => e.name)).toEqual([
      'MODE',
      'API_KEY',
    ]);

    const revisions = await api()
      .get(`${path}/revisions`)
      .set('authorization', asAlice());
    expect(
      revisions.body.items.map((r: any) => [r.revision, r.action, r.image]),
    ).toEqual([
      [7, 'rollback', 'nginx:1.27'],
      [6, 'redeploy', 'nginx:1.28'],
      [5, 'resume', 'nginx:1.28'],
      [4, 'pause', 'nginx:1.28'],
      [3, 'patch-env', 'nginx:1.28'],
      [2, 'deploy', 'nginx:1.28'],
      [1, 'deploy', 'nginx:1.27'],
    ]);
    expect(revisions.body.items[0].actor).toBe(ALICE);

    const events = await api()
      .get(`${path}/events`)
      .set('authorization', asAlice());
    // No cluster: the app's events are what was done through Paved.
    expect(events.body.nextCursor).toBeUndefined();
    expect(events.body.items.map((e: any) => [e.source, e.reason])).toEqual(
      revisions.body.items.map((r: any) => ['paved', `app.${r.action}`]),
    );

    const audit = await api()
      .get('/api/paved/tenants/shop/audit')
      .set('authorization', asAlice());
    expect(audit.body.items.map((a: any) => a.action)).toEqual([
      'app.rollback',
      'app.redeploy',
      'app.resume',
      'app.pause',
      'app.patch-env',
      'app.deploy',
      'app.deploy',
      'tenant.create',
    ]);
    expect(audit.body.items[0]).toMatchObject({
      actor: ALICE,
      principalType: 'user',
      tenant: 'shop',
      app: 'web',
    });

    const listed = await api()
      .get('/api/paved/tenants/shop/apps')
      .set('authorization', asAlice());
    expect(listed.body.items.map((a: any) => a.ref)).toEqual(['shop/web']);

    const deleted = await api().delete(path).set('authorization', asAlice());
    expect(deleted.status).toBe(202);
    expect((await api().get(path).set('authorization', asAlice())).status).toBe(
      404,
    );
  });

  it('enforces the plan: maxApps, and plan changes that would not fit', async () => {
    await createTenant('small', TEAM_A, 'tiny');
    for (const app of ['a', 'b']) {
      const res = await api()
        .put(`/api/paved/tenants/small/apps/${app}`)
        .set('authorization', asAlice())
        .send({ image: 'nginx:1.27' });
      expect(res.status).toBe(201);
    }
    const third = await api()
      .put('/api/paved/tenants/small/apps/c')
      .set('authorization', asAlice())
      .send({ image: 'nginx:1.27' });
    expect(third.status).toBe(409);
    expect(third.body.error.message).toBe(
      'Tenant small already has 2 apps, the most its plan allows (maxApps 2); delete an app or move the tenant to a bigger plan',
    );
    // Owners may not override their plan's limits; the platform team may.
    const byOwner = await api()
      .patch('/api/paved/tenants/small')
      .set('authorization', asAlice())
      .send({ limits: { maxApps: 50 } });
    expect(byOwner.status).toBe(403);
    expect(byOwner.body.error.message).toBe(
      'Overriding plan limits is for the platform team (permission paved.tenant.limits.override); choose a bigger plan instead, or ask them',
    );
    const override = await api()
      .patch('/api/paved/tenants/small')
      .set('authorization', backend.as(ROOT))
      .send({ limits: { maxApps: 1 } });
    expect(override.status).toBe(409);
    expect(override.body.error.message).toMatch(/has 2 apps, more than the 1/);

    // Plans and isolation are the platform team's too.
    const ownerPlan = await api()
      .patch('/api/paved/tenants/small')
      .set('authorization', asAlice())
      .send({ plan: 'starter', expectedGeneration: 1 });
    expect(ownerPlan.status).toBe(403);
    expect(ownerPlan.body.error.message).toMatch(
      /^Moving a tenant to another plan is for the platform team \(permission paved.tenant.plan.change\)/,
    );
    const ownerIsolation = await api()
      .patch('/api/paved/tenants/small')
      .set('authorization', asAlice())
      .send({ networkIsolation: false });
    expect(ownerIsolation.status).toBe(403);
    expect(ownerIsolation.body.error.message).toMatch(
      /^Turning network isolation off is for the platform team \(permission paved.tenant.isolation.disable\)/,
    );
    const createOpen = await api()
      .post('/api/paved/tenants')
      .set('authorization', asAlice())
      .send({
        name: 'open',
        displayName: 'Open',
        owner: TEAM_A,
        networkIsolation: false,
      });
    expect(createOpen.status).toBe(403);
    expect(createOpen.body.error.message).toMatch(
      /paved.tenant.isolation.disable/,
    );
    // The same plan again, and isolation on, are no changes of theirs to refuse.
    const samePlan = await api()
      .patch('/api/paved/tenants/small')
      .set('authorization', asAlice())
      .send({ plan: 'tiny', networkIsolation: true, expectedGeneration: 1 });
    expect(samePlan.status).toBe(200);
    expect(
      (
        await api()
          .get('/api/paved/tenants/small')
          .set('authorization', asAlice())
      ).body,
    ).toMatchObject({ plan: 'tiny', networkIsolation: true });

    const raised = await api()
      .patch('/api/paved/tenants/small')
      .set('authorization', backend.as(ROOT))
      .send({ plan: 'starter', expectedGeneration: 2 });
    expect(raised.status).toBe(200);
    expect(raised.body).toMatchObject({
      plan: 'starter',
      effectiveLimits: { maxApps: 10 },
      appCount: 2,
      sync: { generation: 3 },
    });
    const staleTenant = await api()
      .patch('/api/paved/tenants/small')
      .set('authorization', backend.as(ROOT))
      .send({ plan: 'pro', expectedGeneration: 2 });
    expect(staleTenant.status).toBe(409);
  });

  it('never lets a concurrent deploy slip past a plan downgrade', async () => {
    // On "pro" (plenty of room) with one app, then, at the same time: a move
    // to "single" (maxApps 1) and a second app. One of them must lose.
    for (let round = 0; round < 5; round++) {
      const name = `squeeze-${round}`;
      await createTenant(name, TEAM_A, 'pro');
      await api()
        .put(`/api/paved/tenants/${name}/apps/one`)
        .set('authorization', asAlice())
        .send({ image: 'web:1' });
      const [downgrade, deploy] = await Promise.all([
        api()
          .patch(`/api/paved/tenants/${name}`)
          .set('authorization', backend.as(ROOT))
          .send({ plan: 'single' }),
        api()
          .put(`/api/paved/tenants/${name}/apps/two`)
          .set('authorization', asAlice())
          .send({ image: 'web:1' }),
      ]);
      // One wins (the downgrade 200, or the deploy 201), the other is
      // refused for the limit.
      const statuses = [downgrade.status, deploy.status];
      expect(statuses.filter(status => status === 409)).toHaveLength(1);
      expect(statuses.filter(status => status < 300)).toHaveLength(1);
      const tenant = await api()
        .get(`/api/paved/tenants/${name}`)
        .set('authorization', asAlice());
      expect(tenant.body.appCount).toBeLessThanOrEqual(
        tenant.body.effectiveLimits.maxApps,
      );
    }
  });

  it('refuses to create a tenant owned by a group you are not in', async () => {
    const res = await api()
      .post('/api/paved/tenants')
      .set('authorization', asAlice())
      .send({ name: 'not-mine', displayName: 'Not mine', owner: TEAM_B });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe(
      'You may not create a tenant owned by group:default/team-b: you are not a member of it; choose a group you belong to',
    );
    const list = await api()
      .get('/api/paved/tenants')
      .set('authorization', asBob());
    expect(list.body.items.map((t: any) => t.name)).not.toContain('not-mine');
  });

  it('shows each user only the tenants of their groups', async () => {
    await createTenant('team-a-one', TEAM_A);
    await createTenant('team-b-one', TEAM_B);
    await api()
      .put('/api/paved/tenants/team-b-one/apps/api')
      .set('authorization', asBob())
      .send({ image: 'api:1.0' });

    const bobTenants = await api()
      .get('/api/paved/tenants')
      .set('authorization', asBob());
    expect(bobTenants.body.items.map((t: any) => t.name)).toEqual([
      'team-b-one',
    ]);
    const aliceTenants = await api()
      .get('/api/paved/tenants')
      .set('authorization', asAlice());
    expect(aliceTenants.body.items.map((t: any) => t.owner)).not.toContain(
      TEAM_B,
    );
    const aliceApps = await api()
      .get('/api/paved/apps')
      .set('authorization', asAlice());
    expect(aliceApps.body.items.map((a: any) => a.tenant)).not.toContain(
      'team-b-one',
    );
    const bobApps = await api()
      .get('/api/paved/apps')
      .set('authorization', asBob());
    expect(bobApps.body.items.map((a: any) => a.ref)).toEqual([
      'team-b-one/api',
    ]);

    // Every route as another team, token kind and scope: matrix.test.ts.
    const write = await api()
      .put('/api/paved/tenants/team-b-one/apps/api')
      .set('authorization', asAlice())
      .send({ image: 'evil:1' });
    expect(write.status).toBe(404);
    const unchanged = await api()
      .get('/api/paved/tenants/team-b-one/apps/api')
      .set('authorization', asBob());
    expect(unchanged.body).toMatchObject({ image: 'api:1.0', revision: 1 });
  });

  it('answers each of many parallel writes with its own image and revision, and 201 exactly once', async () => {
    await createTenant('race');
    const path = '/api/paved/tenants/race/apps/web';
    const images = Array.from({ length: 50 }, (_, i) => `web:${i + 1}`);
    const answers = await Promise.all(
      images.map(image =>
        api().put(path).set('authorization', asAlice()).send({ image }),
      ),
    );
    expect(answers.filter(a => a.status === 201)).toHaveLength(1);
    expect(answers.filter(a => a.status === 200)).toHaveLength(49);
    answers.forEach((answer, i) => expect(answer.body.image).toBe(images[i]));
    const revisions = answers.map(a => a.body.revision);
    expect(new Set(revisions).size).toBe(50);
    expect(Math.max(...revisions)).toBe(50);
    // The answer with the last revision is what the app is now.
    const last = answers.find(a => a.body.revision === 50)!;
    const now = await api().get(path).set('authorization', asAlice());
    expect(now.body).toMatchObject({ image: last.body.image, revision: 50 });

    // Parallel first deploys of another app: one creates it.
    const firsts = await Promise.all(
      [1, 2, 3, 4, 5].map(i =>
        api()
          .put('/api/paved/tenants/race/apps/api')
          .set('authorization', asAlice())
          .send({ image: `api:${i}` }),
      ),
    );
    expect(firsts.filter(a => a.status === 201)).toHaveLength(1);
    expect(firsts.filter(a => a.status === 200)).toHaveLength(4);
  });

  it('honours expectedGeneration on every write, rollback and deletes included', async () => {
    await createTenant('gens');
    const path = '/api/paved/tenants/gens/apps/web';
    const as = (req: any) => req.set('authorization', asAlice());
    await as(api().put(path)).send({ image: 'web:1' });
    const second = await as(api().put(path)).send({ image: 'web:2' });
    const generation = second.body.sync.generation;
    const writes: Array<[string, string, Record<string, unknown>]> = [
      ['put', path, { image: 'web:3' }],
      ['patch', `${path}/env`, { set: [{ name: 'A', value: '1' }] }],
      ['post', `${path}/pause`, {}],
      ['post', `${path}/resume`, {}],
      ['post', `${path}/redeploy`, {}],
      ['post', `${path}/rollback`, { revision: 1 }],
      ['patch', '/api/paved/tenants/gens', { displayName: 'G' }],
    ];
    for (const [method, url, body] of writes) {
      const stale = await as((api() as any)[method](url)).send({
        ...body,
        expectedGeneration: 999,
      });
      expect({ method, url, status: stale.status }).toEqual({
        method,
        url,
        status: 409,
      });
      expect(stale.body.error.message).toMatch(/changed since you read it/);
    }
    const unchanged = await as(api().get(path));
    expect(unchanged.body).toMatchObject({ image: 'web:2', revision: 2 });
    const rollback = await as(api().post(`${path}/rollback`)).send({
      revision: 1,
      expectedGeneration: generation,
    });
    expect(rollback.status).toBe(200);
    expect(rollback.body).toMatchObject({ image: 'web:1', revision: 3 });

    const staleDelete = await as(
      api().delete(`${path}?expectedGeneration=999`),
    );
    expect(staleDelete.status).toBe(409);
    const badQuery = await as(api().delete(`${path}?expectedGeneration=x`));
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error.message).toMatch(/whole number/);
    const deleted = await as(
      api().delete(`${path}?expectedGeneration=${generation + 1}`),
    );
    expect(deleted.status).toBe(202);
  });

  it('answers a long poll of an app at its next change, with 304 when none came, and refuses a bad wait', async () => {
    await createTenant('poll');
    const path = '/api/paved/tenants/poll/apps/web';
    const deployed = await api()
      .put(path)
      .set('authorization', asAlice())
      .send({ image: 'web:1', port: 8080 });
    expect(deployed.status).toBe(201);
    const first = await api().get(path).set('authorization', asAlice());
    expect(first.status).toBe(200);
    const etag = first.headers.etag;
    expect(etag).toMatch(/^"[\w-]+"$/);

    // Unchanged: the same tag, then 304 once the wait is over.
    const unchanged = await api()
      .get(path)
      .set('authorization', asAlice())
      .set('if-none-match', etag)
      .set('prefer', 'wait=1');
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.etag).toBe(etag);
    expect(unchanged.headers['preference-applied']).toBe('wait=1');

    // A change during a 30 s wait is answered at once, with the new app.
    const started = Date.now();
    const poll = api()
      .get(path)
      .set('authorization', asAlice())
      .set('if-none-match', etag)
      .set('prefer', 'wait=30')
      .then(res => res);
    await new Promise(resolve => setTimeout(resolve, 300));
    const updated = await api()
      .put(path)
      .set('authorization', asAlice())
      .send({ image: 'web:2', port: 8080 });
    expect(updated.status).toBe(200);
    const woken = await poll;
    expect(woken.status).toBe(200);
    expect(woken.body).toMatchObject({ image: 'web:2', revision: 2 });
    expect(woken.headers.etag).not.toBe(etag);
    expect(Date.now() - started).toBeLessThan(15_000);

    // Another team waits for nothing: the same 404 as for no app.
    const other = await api()
      .get(path)
      .set('authorization', asBob())
      .set('if-none-match', etag)
      .set('prefer', 'wait=5');
    const missing = await api()
      .get('/api/paved/tenants/poll/apps/nope')
      .set('authorization', asAlice());
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);

    for (const prefer of ['wait=abc', 'wait=61', 'wait=-1', 'wait=1.5']) {
      const bad = await api()
        .get(path)
        .set('authorization', asAlice())
        .set('if-none-match', woken.headers.etag)
        .set('prefer', prefer);
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(
        /Prefer header: wait=.* must be a whole number of seconds from 0 to 60/,
      );
    }
    // Other preferences are left alone, as RFC 7240 asks.
    const respondAsync = await api()
      .get(path)
      .set('authorization', asAlice())
      .set('prefer', 'respond-async');
    expect(respondAsync.status).toBe(200);
  });

  it('keeps the latest revisions only, and says so when a rollback asks for an older one', async () => {
    await createTenant('history');
    const path = '/api/paved/tenants/history/apps/web';
    for (let i = 1; i <= REVISIONS_KEPT + 3; i++) {
      const res = await api()
        .put(path)
        .set('authorization', asAlice())
        .send({ image: `web:${i}` });
      expect(res.status).toBeLessThan(300);
    }
    const revisions = await api()
      .get(`${path}/revisions`)
      .set('authorization', asAlice());
    expect(revisions.body.items).toHaveLength(REVISIONS_KEPT);
    expect(revisions.body.items.at(-1).revision).toBe(4);
    const old = await api()
      .post(`${path}/rollback`)
      .set('authorization', asAlice())
      .send({ revision: 2 });
    expect(old.status).toBe(400);
    expect(old.body.error.message).toMatch(
      new RegExp(
        `no revision 2; its latest is ${
          REVISIONS_KEPT + 3
        } and the latest ${REVISIONS_KEPT} are kept`,
      ),
    );
  });

  it('refuses a body over the limit with 413', async () => {
    await createTenant('big');
    const res = await api()
      .put('/api/paved/tenants/big/apps/web')
      .set('authorization', asAlice())
      .send({
        image: 'nginx:1.27',
        env: [{ name: 'X', value: 'x'.repeat(300_000) }],
      });
    expect(res.status).toBe(413);
    expect(res.body.error.message).toMatch(/over the limit of 262144 bytes/);
    const notJson = await api()
      .put('/api/paved/tenants/big/apps/web')
      .set('authorization', asAlice())
      .set('content-type', 'application/json')
      .send('{"image": ');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.message).toMatch(
      /not valid JSON.*send a JSON object/,
    );
  });

  describe('bad input', () => {
    beforeAll(async () => {
      await createTenant('inputs');
      await api()
        .put('/api/paved/tenants/inputs/apps/web')
        .set('authorization', asAlice())
        .send({ image: 'nginx:1.27' });
    });

    const cases: Array<[string, string, string, unknown, RegExp]> = [
      [
        'POST',
        '/tenants',
        'missing owner',
        { name: 'x', displayName: 'X' },
        /owner/,
      ],
      [
        'POST',
        '/tenants',
        'bad name',
        { name: 'Bad_Name', displayName: 'X', owner: TEAM_A },
        /^Invalid tenant: name: .*uppercase/,
      ],
      [
        'POST',
        '/tenants',
        'bad owner',
        { name: 'ok', displayName: 'X', owner: 'team-a' },
        /owner: .*group:default\/team-a/,
      ],
      [
        'POST',
        '/tenants',
        'bad limits',
        {
          name: 'ok',
          displayName: 'X',
          owner: TEAM_A,
          limits: { cpu: 'lots' },
        },
        /limits.cpu: CPU "lots"/,
      ],
      [
        'POST',
        '/tenants',
        'unknown field',
        { name: 'ok', displayName: 'X', owner: TEAM_A, color: 'red' },
        /color/,
      ],
      ['POST', '/tenants', 'not an object', [1, 2], /Invalid tenant/],
      ['PATCH', '/tenants/inputs', 'empty update', {}, /give at least one of/],
      [
        'PATCH',
        '/tenants/inputs',
        'unknown plan',
        { plan: 'gold' },
        /"gold" is not a plan; choose one of/,
      ],
      [
        'PATCH',
        '/tenants/inputs',
        'bad generation',
        { plan: 'pro', expectedGeneration: -1 },
        /expectedGeneration: expectedGeneration must be 0 or more/,
      ],
      [
        'PATCH',
        '/tenants/inputs',
        'bad maxApps',
        { limits: { maxApps: 0 } },
        /limits.maxApps: maxApps must be at least 1/,
      ],
      [
        'GET',
        '/tenants/Bad!',
        'bad tenant in path',
        undefined,
        /tenant name in the path: .*uppercase/,
      ],
      [
        'GET',
        '/tenants/inputs/apps/Web',
        'bad app in path',
        undefined,
        /app name in the path/,
      ],
      [
        'PUT',
        '/tenants/inputs/apps/web',
        'no tag',
        { image: 'nginx' },
        /^Invalid deploy request: image: .*no tag or digest/,
      ],
      [
        'PUT',
        '/tenants/inputs/apps/web',
        'queue-proxy port',
        { image: 'a:1', port: 8012 },
        /port: Port 8012/,
      ],
      [
        'PUT',
        '/tenants/inputs/apps/web',
        'port not a number',
        { image: 'a:1', port: '80' },
        /port: Port must be a number/,
      ],
      [
        'PUT',
        '/tenants/inputs/apps/web',
        'reserved env',
        { image: 'a:1', env: [{ name: 'PORT', value: '1' }] },
        /env.0.name: Env var PORT is set by the platform/,
      ],
      [
        'PUT',
        '/tenants/inputs/apps/web',
        'duplicate env',
        {
          image: 'a:1',
          env: [
            { name: 'A', value: '1' },
            { name: 'A', value: '2' },
          ],
        },
        /env.1.name: Env var A is set twice/,
      ],
      [
        'PUT',
        '/tenants/inputs/apps/web',
        'scaling order',
        { image: 'a:1', scaling: { minInstances: 5, maxInstances: 2 } },
        /minInstances must not be greater than maxInstances/,
      ],
      [
        'PUT',
        '/tenants/inputs/apps/web',
        'bad memory',
        { image: 'a:1', resources: { memory: '1' } },
        /resources.memory: Memory "1"/,
      ],
      [
        'PUT',
        '/tenants/inputs/apps/web',
        'bad domain',
        { image: 'a:1', domains: ['nodot'] },
        /domains.0: Domain "nodot"/,
      ],
      [
        'PUT',
        '/tenants/inputs/apps/web',
        'mask without secret',
        {
          image: 'a:1',
          env: [{ name: 'K', value: SECRET_MASK, secret: true }],
        },
        /no saved secret; send the real value/,
      ],
      [
        'PATCH',
        '/tenants/inputs/apps/web/env',
        'nothing to do',
        {},
        /Give env vars to set or names to remove/,
      ],
      [
        'PATCH',
        '/tenants/inputs/apps/web/env',
        'set and remove',
        { set: [{ name: 'A', value: '1' }], remove: ['A'] },
        /A is both set and removed/,
      ],
      [
        'PATCH',
        '/tenants/inputs/apps/web/env',
        'bad name',
        { set: [{ name: '1A', value: '1' }] },
        /set.0.name/,
      ],
      [
        'POST',
        '/tenants/inputs/apps/web/rollback',
        'no revision',
        {},
        /revision: revision must be a number/,
      ],
      [
        'POST',
        '/tenants/inputs/apps/web/rollback',
        'unknown revision',
        { revision: 99 },
        /has no revision 99; its latest is 1/,
      ],
      [
        'POST',
        '/tenants/inputs/apps/web/pause',
        'unknown field',
        { now: true },
        /now/,
      ],
    ];

    it.each(cases)(
      '%s %s (%s) answers 400 naming the field',
      async (method, path, _what, body, message) => {
        let req = (api() as any)
          [method.toLowerCase()](`/api/paved${path}`)
          .set('authorization', asAlice());
        if (body !== undefined) req = req.send(body);
        const res = await req;
        expect(res.status).toBe(400);
        expect(res.body.error.name).toBe('InputError');
        expect(res.body.error.message).toMatch(message);
        const app = await api()
          .get('/api/paved/tenants/inputs/apps/web')
          .set('authorization', asAlice());
        expect(app.body).toMatchObject({ image: 'nginx:1.27', revision: 1 });
      },
    );

    it('answers 404 for missing tenants and apps', async () => {
      const bodies: Record<string, unknown> = {
        put: { image: 'a:1' },
        patch: { set: [{ name: 'A', value: '1' }] },
      };
      for (const [method, path] of [
        ['get', '/tenants/nope'],
        ['get', '/tenants/inputs/apps/nope'],
        ['post', '/tenants/inputs/apps/nope/pause'],
        ['patch', '/tenants/inputs/apps/nope/env'],
        ['delete', '/tenants/inputs/apps/nope'],
        ['put', '/tenants/nope/apps/web'],
      ]) {
        let req = (api() as any)
          [method](`/api/paved${path}`)
          .set('authorization', asAlice());
        if (bodies[method]) req = req.send(bodies[method]);
        const res = await req;
        expect({ path, status: res.status }).toEqual({ path, status: 404 });
      }
    });

    it('creates a tenant exactly when its name is a valid tenant name', async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.string({ maxLength: 70 }),
            fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/),
          ),
          async raw => {
            // A suffix keeps generated names from colliding between runs.
            const name =
              raw.length > 0 && raw.length < 50 ? `${raw}${n++}` : raw;
            const res = await api()
              .post('/api/paved/tenants')
              .set('authorization', asAlice())
              .send({ name, displayName: 'Fuzz', owner: TEAM_A });
            const problem = tenantNameProblem(name);
            expect({ name, status: res.status }).toEqual({
              name,
              status: problem ? 400 : 201,
            });
            expect(res.status === 201 || res.body.error.message).toBe(
              res.status === 201 ? true : `Invalid tenant: name: ${problem}`,
            );
          },
        ),
        { numRuns: 40 },
      );
    });

    it('never accepts an arbitrary deploy body that the schema refuses, and never changes the app then', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record(
            {
              image: fc.oneof(fc.string(), fc.constant('ok:1')),
              port: fc.oneof(fc.integer(), fc.string()),
              paused: fc.oneof(fc.boolean(), fc.string()),
              domains: fc.array(fc.string(), { maxLength: 3 }),
            },
            { requiredKeys: [] },
          ),
          async body => {
            const res = await api()
              .put('/api/paved/tenants/inputs/apps/fuzz')
              .set('authorization', asAlice())
              .send(body);
            expect([200, 201, 400]).toContain(res.status);
            // Accepted exactly when the request schema accepts it.
            const accepted = res.status !== 400;
            expect(accepted).toBe(
              deployAppRequestSchema.safeParse(body).success,
            );
            expect(
              accepted
                ? res.body.image === body.image
                : res.body.error.message.startsWith('Invalid deploy request: '),
            ).toBe(true);
          },
        ),
        { numRuns: 40 },
      );
    });
  });
});
