/**
 * Who sees Paved's catalog entities, with the real catalog backend and
 * Paved's permission policy: the app's owner group and the platform team
 * by default, everyone with `paved.catalog.visibleToAll`.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import catalogBackend from '@backstage/plugin-catalog-backend';
import { eventually } from '@paved/test-cluster';
import request from 'supertest';
import pavedPlugin from '@paved/plugin-paved-backend';
import { catalogModulePavedEntityProvider } from './module';
import {
  ALICE,
  BOB,
  ROOT,
  PLATFORM,
  TEAM_A,
  groupUserInfoFactory,
  localPolicyPermissionsFactory,
} from '@paved/plugin-paved-backend/testUtils';
import { mockCredentials } from '@backstage/backend-test-utils';

jest.setTimeout(300_000);

async function startCatalog(visibleToAll: boolean) {
  const backend = await startTestBackend({
    features: [
      pavedPlugin,
      catalogBackend,
      catalogModulePavedEntityProvider,
      schedulerServiceFactory,
      groupUserInfoFactory,
      localPolicyPermissionsFactory,
      mockServices.rootConfig.factory({
        data: {
          backend: {
            database: { client: 'better-sqlite3', connection: ':memory:' },
          },
          permission: { enabled: true },
          catalog: { processingInterval: { seconds: 1 } },
          paved: {
            catalog: { frequencySeconds: 1, visibleToAll },
            permissions: { admins: [PLATFORM] },
          },
        },
      }),
    ],
  });
  const api = request(backend.server);
  const as = (user: string) => mockCredentials.user.header(user);
  expect(
    (
      await api
        .post('/api/paved/tenants')
        .set('authorization', as(ALICE))
        .send({ name: 'acme', displayName: 'Acme', owner: TEAM_A })
    ).status,
  ).toBe(201);
  expect(
    (
      await api
        .put('/api/paved/tenants/acme/apps/web')
        .set('authorization', as(ALICE))
        .send({ image: 'ghcr.io/acme/web:1.0.0' })
    ).status,
  ).toBe(201);
  const entityPath = '/api/catalog/entities/by-name/component/default/acme-web';
  await eventually('entity in the catalog', async () => {
    const res = await api.get(entityPath).set('authorization', as(ROOT));
    return res.status === 200;
  });
  /** What a user finds of the app by every catalog read route. */
  const sees = async (user: string) => {
    const byName = await api.get(entityPath).set('authorization', as(user));
    const list = await api
      .get('/api/catalog/entities/by-query?filter=kind=component')
      .set('authorization', as(user));
    const facets = await api
      .get(
        '/api/catalog/entity-facets?facet=metadata.annotations.paved.dev/app',
      )
      .set('authorization', as(user));
    return {
      byName: byName.status,
      inList: list.body.items.some((e: any) => e.metadata.name === 'acme-web'),
      inFacets:
        facets.body.facets['metadata.annotations.paved.dev/app'].length > 0,
    };
  };
  return { backend, sees };
}

describe('visibility of Paved catalog entities', () => {
  it('shows an app only to its owner group and the platform team by default', async () => {
    const { backend, sees } = await startCatalog(false);
    try {
      const visible = { byName: 200, inList: true, inFacets: true };
      expect(await sees(ALICE)).toEqual(visible);
      expect(await sees(ROOT)).toEqual(visible);
      // The other team: as if the entity did not exist.
      expect(await sees(BOB)).toEqual({
        byName: 404,
        inList: false,
        inFacets: false,
      });
    } finally {
      await backend.stop();
    }
  });

  it('shows it to everyone with paved.catalog.visibleToAll', async () => {
    const { backend, sees } = await startCatalog(true);
    try {
      expect(await sees(BOB)).toEqual({
        byName: 200,
        inList: true,
        inFacets: true,
      });
    } finally {
      await backend.stop();
    }
  });
});
