/**
 * The cross-tenant matrix: every route of the API, as every kind of caller
 * that is not the tenant's owner (another team, no token, a bad token, a
 * service token scoped to another tenant, a service token with no scope),
 * on a tenant and app that exist and on ones that do not. A leak is a 2xx
 * on someone else's resource, a foreign item in a list, or any difference
 * between the answer for "exists but not yours" and "does not exist". The
 * owner's own requests are the control: they succeed.
 */
import { pavedTestDatabases } from '../__testUtils__/databases';
import {
  ALICE,
  BOB,
  PavedTestBackend,
  TEAM_A,
  TEAM_B,
  startPavedBackend,
} from '../testUtils/backend';
import { mustAnswer } from '../__testUtils__/mustAnswer';

jest.setTimeout(120_000);

const databases = pavedTestDatabases();

/** A service token as Backstage's mock auth reads it, with this subject. */
const serviceToken = (subject: string) =>
  `Bearer mock-service-token:${JSON.stringify({ sub: subject })}`;

type Route = [method: string, path: string, body?: unknown];
/** Every route on a tenant (T) or app (A), with a body it would accept. */
const ROUTES: Route[] = [
  ['get', '/tenants/T'],
  ['get', '/tenants/T/audit'],
  ['get', '/tenants/T/apps'],
  ['get', '/tenants/T/apps/A'],
  ['get', '/tenants/T/apps/A/revisions'],
  ['get', '/tenants/T/apps/A/events'],
  ['get', '/tenants/T/apps/A/audit'],
  ['patch', '/tenants/T', { displayName: 'Mine now' }],
  ['patch', '/tenants/T', { plan: 'pro' }],
  ['patch', '/tenants/T', { networkIsolation: false }],
  ['patch', '/tenants/T', { limits: { maxApps: 99 } }],
  ['put', '/tenants/T/apps/A', { image: 'evil:1' }],
  ['put', '/tenants/T/apps/new', { image: 'evil:1' }],
  ['patch', '/tenants/T/apps/A/env', { set: [{ name: 'X', value: '1' }] }],
  ['post', '/tenants/T/apps/A/pause'],
  ['post', '/tenants/T/apps/A/resume'],
  ['post', '/tenants/T/apps/A/redeploy'],
  ['post', '/tenants/T/apps/A/rollback', { revision: 1 }],
  ['delete', '/tenants/T/apps/A'],
  ['delete', '/tenants/T'],
  ['get', '/tenants/T/apps/A/logs'],
  ['get', '/tenants/T/apps/A/logs?follow=true'],
  ['get', '/tenants/T/apps/A/events?limit=1'],
  ['get', '/tenants/T/audit?limit=1'],
  ['put', '/tenants/T/apps/A/domains/stolen.example.com', {}],
  ['delete', '/tenants/T/apps/A/domains/stolen.example.com'],
];
/** Without a cluster, the one answer the logs give even the owner. */
const ownerStatus = ([, path]: Route) => (/\/logs/.test(path) ? 503 : 200);

describe.each(databases.eachSupportedId())('cross-tenant matrix on %s', id => {
  let backend: PavedTestBackend;

  beforeAll(async () => {
    backend = await startPavedBackend({
      knex: await databases.init(id),
      config: {
        paved: {
          serviceAccess: [{ subject: 'ci-for-b', tenants: ['theirs'] }],
        },
      },
    });
    for (const [tenant, owner, user] of [
      ['mine', TEAM_A, ALICE],
      ['theirs', TEAM_B, BOB],
    ]) {
      const created = await backend.request
        .post('/api/paved/tenants')
        .set('authorization', backend.as(user))
        .send({ name: tenant, displayName: tenant, owner });
      mustAnswer(`create tenant ${tenant}`, created, 201);
      const app = await backend.request
        .put(`/api/paved/tenants/${tenant}/apps/web`)
        .set('authorization', backend.as(user))
        .send({
          image: 'web:1',
          env: [{ name: 'K', value: 'v', secret: true }],
        });
      mustAnswer(`deploy ${tenant}/web`, app, 201);
    }
  });
  afterAll(() => backend?.stop());

  const callers: Record<string, () => string | undefined> = {
    'another team': () => backend.as(BOB),
    'no token': () => undefined,
    'a bad token': () => 'Bearer not-a-token',
    "another tenant's scoped token": () => serviceToken('ci-for-b'),
    'an unscoped token': () => serviceToken('forgotten'),
  };

  async function send(
    [method, path, body]: Route,
    tenant: string,
    app: string,
    authorization: string | undefined,
  ) {
    const url = `/api/paved${path
      .replace('T', tenant)
      .replace('/A', `/${app}`)}`;
    let req = (backend.request as any)[method](url);
    if (authorization) req = req.set('authorization', authorization);
    if (body) req = req.send(body);
    const res = await req;
    return {
      status: res.status as number,
      body: JSON.stringify(res.body)
        .replaceAll(tenant, '<tenant>')
        .replaceAll(app, '<app>'),
    };
  }

  it('leaks nothing to anyone but the owner, on any route, and answers "not yours" as "not there"', async () => {
    let requests = 0;
    const leaks: string[] = [];
    for (const [caller, authorization] of Object.entries(callers)) {
      for (const route of ROUTES) {
        const existing = await send(route, 'mine', 'web', authorization());
        const missingApp = await send(route, 'mine', 'nope', authorization());
        const missing = await send(route, 'ghost', 'web', authorization());
        requests += 3;
        const what = `${caller}: ${route[0].toUpperCase()} ${route[1]}`;
        if (existing.status < 300)
          leaks.push(`${what} answered ${existing.status}`);
        if (JSON.stringify(existing) !== JSON.stringify(missing)) {
          leaks.push(
            `${what}: ${JSON.stringify(
              existing,
            )} but for a missing tenant ${JSON.stringify(missing)}`,
          );
        }
        if (JSON.stringify(missingApp) !== JSON.stringify(missing)) {
          leaks.push(
            `${what}: ${JSON.stringify(
              missingApp,
            )} for a missing app but ${JSON.stringify(
              missing,
            )} for a missing tenant`,
          );
        }
      }
      for (const list of ['/tenants', '/apps']) {
        const res = await (backend.request as any)
          .get(`/api/paved${list}`)
          .set('authorization', authorization() ?? '');
        requests++;
        const foreign = (res.body.items ?? []).filter(
          (item: any) => (item.tenant ?? item.name) === 'mine',
        );
        if (foreign.length) leaks.push(`${caller}: GET ${list} lists mine`);
      }
    }
    // eslint-disable-next-line no-console
    console.log(`matrix: ${requests} requests, ${leaks.length} leaks`);
    expect(leaks).toEqual([]);
    // Nothing of the owner's changed.
    const app = await backend.request
      .get('/api/paved/tenants/mine/apps/web')
      .set('authorization', backend.as(ALICE));
    expect(app.body).toMatchObject({
      image: 'web:1',
      revision: 1,
      paused: false,
    });
    const tenant = await backend.request
      .get('/api/paved/tenants/mine')
      .set('authorization', backend.as(ALICE));
    expect(tenant.body).toMatchObject({
      displayName: 'mine',
      plan: 'free',
      networkIsolation: true,
    });
  });

  it("answers the owner and the tenant's scoped token (the controls)", async () => {
    for (const route of ROUTES.filter(([method]) => method === 'get')) {
      const own = await send(route, 'mine', 'web', backend.as(ALICE));
      expect({ route, status: own.status }).toEqual({
        route,
        status: ownerStatus(route),
      });
      const scoped = await send(
        route,
        'theirs',
        'web',
        serviceToken('ci-for-b'),
      );
      expect({ route, status: scoped.status }).toEqual({
        route,
        status: ownerStatus(route),
      });
    }
    const deploy = await send(
      ROUTES[11],
      'theirs',
      'web',
      serviceToken('ci-for-b'),
    );
    expect(deploy.status).toBe(200);
    const list = await backend.request
      .get('/api/paved/apps')
      .set('authorization', serviceToken('ci-for-b'));
    expect(list.body.items.map((a: any) => a.ref)).toEqual(['theirs/web']);
  });
});
