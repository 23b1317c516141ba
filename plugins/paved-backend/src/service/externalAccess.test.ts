/**
 * Scripts and CI call the API with a Backstage static external-access token
 * (`backend.auth.externalAccess`, type static), checked by Backstage's real
 * auth services, not the test mocks.
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

jest.setTimeout(60_000);

const TOKEN = 'paved-ci-token-0123456789abcdef';
const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('static external-access tokens', () => {
  it('let a script create a tenant, deploy an app and read it back', async () => {
    const backend = await startTestBackend({
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
                  {
                    type: 'static',
                    options: { token: TOKEN, subject: 'ci-deployer' },
                  },
                ],
              },
            },
          },
        }),
      ],
    });
    try {
      const api = request(backend.server);
      const bearer = `Bearer ${TOKEN}`;
      const tenant = await api
        .post('/api/paved/tenants')
        .set('authorization', bearer)
        .send({ name: 'ci', displayName: 'CI', owner: 'group:default/team-a' });
      expect(tenant.status).toBe(201);
      expect(tenant.body.createdBy).toBe('service:ci-deployer');

      const deploy = await api
        .put('/api/paved/tenants/ci/apps/web')
        .set('authorization', bearer)
        .send({ image: 'ghcr.io/acme/web:1.0.0', port: 8080 });
      expect(deploy.status).toBe(201);
      expect(deploy.body).toMatchObject({
        ref: 'ci/web',
        updatedBy: 'service:ci-deployer',
      });

      const audit = await api
        .get('/api/paved/tenants/ci/apps/web/audit')
        .set('authorization', bearer);
      expect(audit.body.items[0]).toMatchObject({
        actor: 'service:ci-deployer',
        principalType: 'service',
        action: 'app.deploy',
      });

      const wrong = await api
        .get('/api/paved/tenants')
        .set('authorization', 'Bearer not-the-token-0123456789');
      expect(wrong.status).toBe(401);
    } finally {
      await backend.stop();
    }
  });
});
