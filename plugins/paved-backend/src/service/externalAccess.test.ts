/**
 * Scripts and CI call the API with a Backstage static external-access token
 * (`backend.auth.externalAccess`, type static), checked by Backstage's real
 * auth services, not the test mocks. Paved scopes each token to tenants and
 * actions (`paved.serviceAccess`); Backstage's `accessRestrictions` narrow
 * the permissions on top; a token with no scope is refused.
 */
import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import {
  TestDatabases,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import request from 'supertest';
import { pavedPlugin } from '../plugin';
import { mustAnswer } from '../__testUtils__/mustAnswer';

jest.setTimeout(60_000);

const ADMIN = 'paved-admin-token-0123456789abcdef';
const CI = 'paved-ci-token-0123456789abcdef';
const READER = 'paved-reader-token-0123456789abcdef';
const UNSCOPED = 'paved-unscoped-token-0123456789abcdef';
const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('static external-access tokens', () => {
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  const api = () => request(backend.server);
  const bearer = (token: string) => `Bearer ${token}`;

  beforeAll(async () => {
    const token = (value: string, subject: string, extra = {}) => ({
      type: 'static',
      options: { token: value, subject },
      ...extra,
    });
    backend = await startTestBackend({
      features: [
        pavedPlugin,
        authServiceFactory,
        httpAuthServiceFactory,
        mockServices.database.factory({
          knex: await databases.init('SQLITE_3'),
        }),
        mockServices.rootConfig.factory({
          data: {
            backend: {
              baseUrl: 'http://localhost:7007',
              auth: {
                externalAccess: [
                  token(ADMIN, 'platform-admin'),
                  token(CI, 'ci-deployer'),
                  // Backstage's own narrowing: this token may only read.
                  token(READER, 'dashboard', {
                    accessRestrictions: [
                      {
                        plugin: 'paved',
                        permissionAttribute: { action: 'read' },
                      },
                    ],
                  }),
                  token(UNSCOPED, 'forgotten'),
                ],
              },
            },
            paved: {
              serviceAccess: [
                { subject: 'platform-admin', tenants: ['*'] },
                {
                  subject: 'ci-deployer',
                  tenants: ['ci'],
                  actions: ['read', 'create', 'update'],
                },
                { subject: 'dashboard', tenants: ['*'] },
              ],
            },
          },
        }),
      ],
    });
    const other = await api()
      .post('/api/paved/tenants')
      .set('authorization', bearer(ADMIN))
      .send({
        name: 'other',
        displayName: 'Other',
        owner: 'group:default/team-b',
      });
    mustAnswer('create the other tenant', other, 201);
  });
  afterAll(() => backend?.stop());

  it('let a scoped script create its tenant, deploy an app and read it back', async () => {
    const tenant = await api()
      .post('/api/paved/tenants')
      .set('authorization', bearer(CI))
      .send({ name: 'ci', displayName: 'CI', owner: 'group:default/team-a' });
    expect(tenant.status).toBe(201);
    expect(tenant.body.createdBy).toBe('service:ci-deployer');

    const deploy = await api()
      .put('/api/paved/tenants/ci/apps/web')
      .set('authorization', bearer(CI))
      .send({ image: 'ghcr.io/acme/web:1.0.0', port: 8080 });
    expect(deploy.status).toBe(201);
    expect(deploy.body).toMatchObject({
      ref: 'ci/web',
      updatedBy: 'service:ci-deployer',
    });

    const audit = await api()
      .get('/api/paved/tenants/ci/apps/web/audit')
      .set('authorization', bearer(CI));
    expect(audit.body.items[0]).toMatchObject({
      actor: 'service:ci-deployer',
      principalType: 'service',
      action: 'app.deploy',
    });

    const wrong = await api()
      .get('/api/paved/tenants')
      .set('authorization', 'Bearer not-the-token-0123456789');
    expect(wrong.status).toBe(401);
  });

  it('keeps a scoped token to its tenants and actions', async () => {
    // Tenants outside the scope answer as missing ones, and are not listed.
    const foreign = await api()
      .put('/api/paved/tenants/other/apps/web')
      .set('authorization', bearer(CI))
      .send({ image: 'evil:1' });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.message).toBe('Tenant other not found');
    const list = await api()
      .get('/api/paved/tenants')
      .set('authorization', bearer(CI));
    expect(list.body.items.map((t: any) => t.name)).toEqual(['ci']);
    const apps = await api()
      .get('/api/paved/apps')
      .set('authorization', bearer(CI));
    expect(apps.body.items.every((a: any) => a.tenant === 'ci')).toBe(true);
    const create = await api()
      .post('/api/paved/tenants')
      .set('authorization', bearer(CI))
      .send({
        name: 'ci-two',
        displayName: 'Two',
        owner: 'group:default/team-a',
      });
    expect(create.status).toBe(403);
    // No delete in its actions.
    const del = await api()
      .delete('/api/paved/tenants/ci/apps/web')
      .set('authorization', bearer(CI));
    expect(del.status).toBe(403);
    expect(del.body.error.message).toMatch(
      /lack the permission paved.app.delete/,
    );
    // Platform permissions need an admin token.
    const open = await api()
      .patch('/api/paved/tenants/ci')
      .set('authorization', bearer(CI))
      .send({ networkIsolation: false });
    expect(open.status).toBe(403);
    expect(open.body.error.message).toMatch(
      /paved.tenant.isolation.disable.*service token "ci-deployer"/,
    );
    const byAdmin = await api()
      .patch('/api/paved/tenants/ci')
      .set('authorization', bearer(ADMIN))
      .send({ networkIsolation: false, plan: 'pro', limits: { maxApps: 3 } });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body).toMatchObject({
      networkIsolation: false,
      plan: 'pro',
    });
  });

  it("applies Backstage's access restrictions on top of the scope", async () => {
    const read = await api()
      .get('/api/paved/tenants/other')
      .set('authorization', bearer(READER));
    expect(read.status).toBe(200);
    const write = await api()
      .put('/api/paved/tenants/other/apps/web')
      .set('authorization', bearer(READER))
      .send({ image: 'web:1' });
    expect(write.status).toBe(403);
    expect(write.body.error.message).toMatch(
      /lack the permission paved.app.deploy/,
    );
  });

  it('refuses a token Paved has no scope for, on every route, saying how to scope it', async () => {
    const bodies: Record<string, unknown> = {
      post: { name: 'x', displayName: 'X', owner: 'group:default/team-a' },
      put: { image: 'web:1' },
    };
    for (const [method, path] of [
      ['get', '/api/paved/tenants'],
      ['get', '/api/paved/apps'],
      ['get', '/api/paved/tenants/other'],
      ['put', '/api/paved/tenants/other/apps/web'],
      ['post', '/api/paved/tenants'],
    ]) {
      const res = await (api() as any)
        [method](path)
        .set('authorization', bearer(UNSCOPED))
        .send(bodies[method]);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(res.body.error.message).toBe(
        `The service token "forgotten" has no Paved scope: list its subject in paved.serviceAccess with the tenants and actions it may use (tenants: ['*'] makes it an admin credential)`,
      );
    }
  });
});
