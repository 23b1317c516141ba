/**
 * The catalog module with the real catalog backend: each app becomes a
 * Component owned by its tenant's owner group, and goes when the app goes.
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import catalogBackend from '@backstage/plugin-catalog-backend';
import request from 'supertest';
import pavedPlugin from '@paved/plugin-paved-backend';
import { catalogModulePavedEntityProvider } from './module';
import { eventually } from '@paved/test-cluster';

jest.setTimeout(300_000);

describe('catalogModulePavedEntityProvider', () => {
  it('puts each app into the catalog as a Component and removes it with the app', async () => {
    const backend = await startTestBackend({
      features: [
        pavedPlugin,
        catalogBackend,
        catalogModulePavedEntityProvider,
        schedulerServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            backend: {
              database: { client: 'better-sqlite3', connection: ':memory:' },
            },
            catalog: { processingInterval: { seconds: 1 } },
            paved: { catalog: { frequencySeconds: 1 } },
          },
        }),
      ],
    });
    try {
      const api = request(backend.server);
      const user = mockCredentials.user.header('user:default/alice');
      expect(
        (
          await api.post('/api/paved/tenants').set('authorization', user).send({
            name: 'acme',
            displayName: 'Acme',
            owner: 'group:default/team-a',
          })
        ).status,
      ).toBe(201);
      expect(
        (
          await api
            .put('/api/paved/tenants/acme/apps/web')
            .set('authorization', user)
            .send({ image: 'ghcr.io/acme/web:1.0.0' })
        ).status,
      ).toBe(201);

      const entityPath =
        '/api/catalog/entities/by-name/component/default/acme-web';
      const entity = await eventually('entity in the catalog', async () => {
        const res = await api.get(entityPath).set('authorization', user);
        return res.status === 200 && res.body;
      });
      expect(entity.metadata.annotations['paved.dev/app']).toBe('acme/web');
      expect(entity.metadata.annotations['backstage.io/kubernetes-id']).toBe(
        'web',
      );
      expect(entity.spec).toMatchObject({
        type: 'service',
        owner: 'group:default/team-a',
      });

      await api
        .delete('/api/paved/tenants/acme/apps/web')
        .set('authorization', user);
      await eventually('entity removed', async () => {
        const res = await api.get(entityPath).set('authorization', user);
        return res.status === 404;
      });
    } finally {
      await backend.stop();
    }
  });
});
