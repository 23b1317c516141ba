/**
 * paved-common's PavedApiClient (used by the catalog module, the frontend
 * and the scaffolder actions) against the real router.
 */
import { mockCredentials } from '@backstage/backend-test-utils';
import { ResponseError } from '@backstage/errors';
import {
  apiErrorMessage,
  apiErrorStatus,
  PavedApiClient,
} from '@paved/plugin-paved-common';
import { TestDatabases } from '@backstage/backend-test-utils';
import {
  ALICE,
  PavedTestBackend,
  TEAM_A,
  startPavedBackend,
} from '../testUtils/backend';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('PavedApiClient', () => {
  let backend: PavedTestBackend;
  let client: PavedApiClient;

  beforeAll(async () => {
    backend = await startPavedBackend({
      knex: await databases.init('SQLITE_3'),
    });
    const port = backend.server.address().port;
    client = new PavedApiClient({
      baseUrl: async () => `http://127.0.0.1:${port}/api/paved`,
      token: async () => mockCredentials.user.token(ALICE),
    });
  });
  afterAll(() => backend?.stop());

  it('covers the API surface', async () => {
    expect((await client.listPlans()).items.length).toBeGreaterThan(0);
    await client.createTenant({
      name: 'client',
      displayName: 'Client',
      owner: TEAM_A,
    });
    expect((await client.getTenant('client')).owner).toBe(TEAM_A);
    expect(
      (await client.updateTenant('client', { displayName: 'Renamed' }))
        .displayName,
    ).toBe('Renamed');
    const app = await client.deployApp('client', 'web', {
      image: 'web:1',
      env: [{ name: 'A', value: '1' }],
    });
    expect(app.revision).toBe(1);
    expect(
      (
        await client.patchEnv('client', 'web', {
          set: [{ name: 'B', value: '2' }],
        })
      ).env.length,
    ).toBe(2);
    expect((await client.pauseApp('client', 'web')).paused).toBe(true);
    expect((await client.resumeApp('client', 'web')).paused).toBe(false);
    expect((await client.redeployApp('client', 'web')).revision).toBe(5);
    expect((await client.rollbackApp('client', 'web', 1)).env).toEqual([
      { name: 'A', value: '1', secret: false },
    ]);
    expect((await client.listRevisions('client', 'web')).items).toHaveLength(6);
    const events = await client.getAppEvents('client', 'web', { limit: 2 });
    expect(events.items.map(e => e.reason)).toEqual([
      'app.rollback',
      'app.redeploy',
    ]);
    const older = await client.getAppEvents('client', 'web', {
      cursor: events.nextCursor,
    });
    expect(older.items.map(e => e.reason)).toContain('app.deploy');
    expect(older.nextCursor).toBeUndefined();
    expect((await client.listApps('client')).items.map(a => a.ref)).toEqual([
      'client/web',
    ]);
    expect((await client.listApps()).items.map(a => a.ref)).toEqual([
      'client/web',
    ]);
    expect((await client.listAudit('client', 'web')).items[0].action).toBe(
      'app.rollback',
    );
    expect((await client.listTenants()).items.map(t => t.name)).toEqual([
      'client',
    ]);
    // Writes without a body of their own take expectedGeneration too.
    const stale = { expectedGeneration: 1 };
    for (const write of [
      () => client.pauseApp('client', 'web', stale),
      () => client.resumeApp('client', 'web', stale),
      () => client.redeployApp('client', 'web', stale),
      () => client.rollbackApp('client', 'web', 1, stale),
      () => client.deleteApp('client', 'web', stale),
      () => client.deleteTenant('client', stale),
    ]) {
      await expect(write()).rejects.toMatchObject({ statusCode: 409 });
    }
    const current = await client.getApp('client', 'web');
    await client.deleteApp('client', 'web', {
      expectedGeneration: current.sync.generation,
    });
    await client.deleteTenant('client');
    expect((await client.listTenants()).items).toEqual([]);
  });

  it("throws Backstage's ResponseError with the status and the message of the API", async () => {
    const error = await client.getTenant('nope').catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error).toMatchObject({
      statusCode: 404,
      body: {
        error: { name: 'NotFoundError', message: 'Tenant nope not found' },
      },
      cause: { name: 'NotFoundError', message: 'Tenant nope not found' },
    });
    expect(apiErrorStatus(error)).toBe(404);
    expect(apiErrorMessage(error)).toBe('Tenant nope not found');
  });

  it('pages the app lists by tenant and name, and refuses a made-up cursor', async () => {
    for (const tenant of ['page-a', 'page-b']) {
      await client.createTenant({
        name: tenant,
        displayName: tenant,
        owner: TEAM_A,
      });
      for (const app of ['x', 'y', 'z']) {
        await client.deployApp(tenant, app, { image: `${app}:1` });
      }
    }
    const seen: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listApps(undefined, { limit: 4, cursor });
      seen.push(page.items.map(a => a.ref));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([
      ['page-a/x', 'page-a/y', 'page-a/z', 'page-b/x'],
      ['page-b/y', 'page-b/z'],
    ]);
    // A page that ends exactly at the end says there is no more.
    const one = await client.listApps('page-b', { limit: 3 });
    expect(one.items.map(a => a.ref)).toEqual([
      'page-b/x',
      'page-b/y',
      'page-b/z',
    ]);
    expect(one.nextCursor).toBeUndefined();
    // Unpaged: all of them, as before.
    expect((await client.listApps('page-a')).items).toHaveLength(3);

    const made = Buffer.from('page-a').toString('base64url');
    const error = await client
      .listApps(undefined, { limit: 2, cursor: made })
      .catch(e => e);
    expect(apiErrorStatus(error)).toBe(400);
    expect(apiErrorMessage(error)).toContain('cursor must be the nextCursor');
    const tooMany = await client
      .listApps(undefined, { limit: 201 })
      .catch(e => e);
    expect(apiErrorStatus(tooMany)).toBe(400);
  });
});
