import { mockServices } from '@backstage/backend-test-utils';
import { ENV_TOTAL_MAX_BYTES, appSpecSchema } from '@paved/plugin-paved-common';
import { Knex } from 'knex';
import path from 'path';
import { pavedTestDatabases } from '../__testUtils__/databases';
import { statementsOf } from '../__testUtils__/statements';
import { DatabasePavedStore } from './DatabasePavedStore';
import { Actor } from './PavedStore';
import { SecretBox } from './SecretBox';

jest.setTimeout(60_000);

const databases = pavedTestDatabases();
const alice: Actor = { ref: 'user:default/alice', principalType: 'user' };

async function createStore(databaseId: any) {
  const knex: Knex = await databases.init(databaseId);
  const secretBox = new SecretBox('test key');
  const store = await DatabasePavedStore.create({
    database: mockServices.database({ knex }),
    secretBox,
  });
  return { knex, store, secretBox };
}

const secretRef = (name: string) => ({
  name,
  secretKeyRef: { name: 'web-paved-env', key: name },
});

const tenantInput = (name: string, owner = 'group:default/team-a') => ({
  name,
  displayName: `Team ${name}`,
  owner,
  plan: 'free',
  networkIsolation: true,
});

describe.each(databases.eachSupportedId())('DatabasePavedStore on %s', id => {
  it('creates, reads, updates and filters tenants by owner', async () => {
    const { store } = await createStore(id);
    const created = await store.createTenant(tenantInput('alpha'), alice);
    expect(created).toMatchObject({
      name: 'alpha',
      owner: 'group:default/team-a',
      generation: 1,
      appliedGeneration: 0,
      deleting: false,
      createdBy: 'user:default/alice',
    });
    await store.createTenant(
      tenantInput('beta', 'group:default/team-b'),
      alice,
    );
    await expect(
      store.createTenant(tenantInput('alpha'), alice),
    ).rejects.toThrow(/already exists/);

    const updated = await store.updateTenant(
      'alpha',
      { plan: 'pro', limits: { maxApps: 7 } },
      { actor: alice, expectedGeneration: 1 },
    );
    expect(updated).toMatchObject({
      plan: 'pro',
      limits: { maxApps: 7 },
      generation: 2,
    });
    await expect(
      store.updateTenant(
        'alpha',
        { plan: 'free' },
        { actor: alice, expectedGeneration: 1 },
      ),
    ).rejects.toMatchObject({ name: 'ConflictError' });

    const teamB = await store.listTenants({
      filter: { owners: ['group:default/team-b'] },
    });
    expect(teamB.map(t => t.name)).toEqual(['beta']);
    const either = await store.listTenants({
      filter: {
        anyOf: [
          { owners: ['group:default/team-b'] },
          { owners: ['group:default/team-a'] },
        ],
      },
    });
    expect(either.map(t => t.name)).toEqual(['alpha', 'beta']);
    const notA = await store.listTenants({
      filter: { not: { owners: ['group:default/team-a'] } },
    });
    expect(notA.map(t => t.name)).toEqual(['beta']);
    expect(await store.listTenants({ filter: { owners: [] } })).toEqual([]);

    const alpha = await store.getTenant('alpha');
    const audit = await store.listAudit({ tenantUid: alpha!.uid, limit: 10 });
    expect(audit.map(a => a.action)).toEqual([
      'tenant.update',
      'tenant.create',
    ]);
    expect(audit[0]).toMatchObject({
      actor: 'user:default/alice',
      principalType: 'user',
    });
  });

  it('writes apps with revisions, generations and the plan limit', async () => {
    const { store } = await createStore(id);
    await store.createTenant(tenantInput('alpha'), alice);
    const first = await store.writeApp({
      tenant: 'alpha',
      name: 'web',
      spec: () => appSpecSchema.parse({ image: 'nginx:1.27' }),
      action: 'deploy',
      actor: alice,
      maxApps: () => 2,
    });
    expect(first).toMatchObject({ revision: 1, generation: 1 });
    const second = await store.writeApp({
      tenant: 'alpha',
      name: 'web',
      spec: current => ({ ...current!.spec, image: 'nginx:1.28' }),
      action: 'deploy',
      actor: alice,
      expectedGeneration: 1,
    });
    expect(second).toMatchObject({ revision: 2, generation: 2 });
    expect(second.spec.image).toBe('nginx:1.28');
    await expect(
      store.writeApp({
        tenant: 'alpha',
        name: 'web',
        spec: current => current!.spec,
        action: 'deploy',
        actor: alice,
        expectedGeneration: 1,
      }),
    ).rejects.toThrow(/changed since you read it/);

    await store.writeApp({
      tenant: 'alpha',
      name: 'api',
      spec: () => appSpecSchema.parse({ image: 'api:1' }),
      action: 'deploy',
      actor: alice,
      maxApps: () => 2,
    });
    await expect(
      store.writeApp({
        tenant: 'alpha',
        name: 'third',
        spec: () => appSpecSchema.parse({ image: 'x:1' }),
        action: 'deploy',
        actor: alice,
        maxApps: () => 2,
      }),
    ).rejects.toThrow(/already has 2 apps.*maxApps 2/);
    expect(await store.countApps('alpha')).toBe(2);
    expect(await store.getApp('alpha', 'third')).toBeUndefined();

    const revisions = await store.listRevisions('alpha', 'web');
    expect(revisions.map(r => [r.revision, r.image])).toEqual([
      [2, 'nginx:1.28'],
      [1, 'nginx:1.27'],
    ]);
    expect((await store.getRevision('alpha', 'web', 1))?.spec.image).toBe(
      'nginx:1.27',
    );
    expect(
      (await store.listApps({ filter: { owners: ['group:default/team-b'] } }))
        .length,
    ).toBe(0);
    expect(
      (await store.listApps({ tenant: 'alpha' })).map(a => a.name),
    ).toEqual(['api', 'web']);
    expect(await store.appCounts(['alpha', 'nope'])).toEqual(
      new Map([['alpha', 2]]),
    );
  });

  it('refuses app writes to a missing tenant', async () => {
    const { store } = await createStore(id);
    await expect(
      store.writeApp({
        tenant: 'ghost',
        name: 'web',
        spec: () => appSpecSchema.parse({ image: 'nginx:1.27' }),
        action: 'deploy',
        actor: alice,
      }),
    ).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('keeps secret values encrypted and out of the spec', async () => {
    const { store, knex } = await createStore(id);
    await store.createTenant(tenantInput('alpha'), alice);
    await store.writeApp({
      tenant: 'alpha',
      name: 'web',
      spec: () =>
        appSpecSchema.parse({
          image: 'nginx:1.27',
          env: [
            { name: 'TOKEN', secretKeyRef: { name: 'web-env', key: 'TOKEN' } },
          ],
        }),
      secrets: new Map([['TOKEN', 's3cr3t-value']]),
      action: 'deploy',
      actor: alice,
    });
    const raw = JSON.stringify(await knex('paved_app_secrets').select());
    expect(raw).not.toContain('s3cr3t-value');
    expect(JSON.stringify(await knex('paved_apps').select())).not.toContain(
      's3cr3t-value',
    );
    expect(await store.getSecrets('alpha', 'web')).toEqual(
      new Map([['TOKEN', 's3cr3t-value']]),
    );
    // A write that neither sets nor keeps the secret removes it.
    await store.writeApp({
      tenant: 'alpha',
      name: 'web',
      spec: current => ({ ...current!.spec, env: [] }),
      action: 'patch-env',
      actor: alice,
    });
    expect((await store.getSecrets('alpha', 'web')).size).toBe(0);
  });

  it('tracks what the cluster has not accepted, and deletions', async () => {
    const { store } = await createStore(id);
    await store.createTenant(tenantInput('alpha'), alice);
    await store.writeApp({
      tenant: 'alpha',
      name: 'web',
      spec: () => appSpecSchema.parse({ image: 'nginx:1.27' }),
      action: 'deploy',
      actor: alice,
    });
    let behind = await store.listBehind();
    expect(behind.tenants.map(t => t.name)).toEqual(['alpha']);
    expect(behind.apps.map(a => a.name)).toEqual(['web']);

    await store.markTenantFailed('alpha', 'connection refused');
    expect((await store.getTenant('alpha'))?.lastError).toBe(
      'connection refused',
    );
    await store.markTenantApplied('alpha', 1);
    // An older generation's apply keeps the error of the newer one.
    await store.writeApp({
      tenant: 'alpha',
      name: 'web',
      spec: () => appSpecSchema.parse({ image: 'nginx:1.28' }),
      action: 'deploy',
      actor: alice,
    });
    expect(
      await store.markAppFailed('alpha', 'web', 'connection refused'),
    ).toMatchObject({ generation: 2, lastError: 'connection refused' });
    expect(await store.markAppApplied('alpha', 'web', 1)).toMatchObject({
      generation: 2,
      appliedGeneration: 1,
      lastError: 'connection refused',
    });
    // Answers the row as it left it (what the sync goes by, unread).
    expect(await store.markAppApplied('alpha', 'web', 2)).toEqual(
      await store.getApp('alpha', 'web'),
    );
    // Never moves backwards.
    expect(await store.markAppApplied('alpha', 'web', 0)).toMatchObject({
      appliedGeneration: 2,
      lastError: undefined,
    });
    expect(await store.markAppApplied('alpha', 'nothing', 1)).toBeUndefined();
    expect((await store.getTenant('alpha'))?.lastError).toBeUndefined();
    behind = await store.listBehind();
    expect(behind).toEqual({ tenants: [], apps: [] });
    expect((await store.getApp('alpha', 'web'))?.appliedGeneration).toBe(2);

    await store.markAppDeleting('alpha', 'web', alice);
    expect(await store.listApps()).toEqual([]);
    behind = await store.listBehind();
    expect(behind.apps.map(a => [a.name, a.deleting])).toEqual([['web', true]]);
    await store.purgeApp('alpha', 'web');
    expect(await store.getApp('alpha', 'web')).toBeUndefined();

    await store.markTenantDeleting('alpha', alice);
    expect(await store.listTenants()).toEqual([]);
    await expect(
      store.createTenant(tenantInput('alpha'), alice),
    ).rejects.toThrow(/being deleted/);
    await store.purgeTenant('alpha');
    expect(await store.getTenant('alpha')).toBeUndefined();
  });

  it('serializes concurrent deploys of one app into one consistent row', async () => {
    const { store } = await createStore(id);
    await store.createTenant(tenantInput('alpha'), alice);
    const images = Array.from({ length: 8 }, (_, i) => `img:${i + 1}`);
    await Promise.all(
      images.map(image =>
        store.writeApp({
          tenant: 'alpha',
          name: 'web',
          spec: () => appSpecSchema.parse({ image }),
          action: 'deploy',
          actor: alice,
        }),
      ),
    );
    const app = (await store.getApp('alpha', 'web'))!;
    expect(app.generation).toBe(8);
    expect(app.revision).toBe(8);
    const revisions = await store.listRevisions('alpha', 'web');
    expect(revisions.map(r => r.revision)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    // The row holds the spec of the last revision written.
    expect(app.spec.image).toBe(revisions[0].image);
  });

  it('loads many tenants in one query, in the order asked, undefined for missing ones', async () => {
    const { store, knex } = await createStore(id);
    await store.createTenant(tenantInput('alpha'), alice);
    await store.createTenant(
      tenantInput('beta', 'group:default/team-b'),
      alice,
    );
    let found: Array<{ name: string } | undefined> = [];
    const statements = await statementsOf(knex, async () => {
      found = await store.getTenants(['beta', 'ghost', 'alpha', 'beta']);
    });
    expect(found.map(t => t?.name)).toEqual([
      'beta',
      undefined,
      'alpha',
      'beta',
    ]);
    expect(found[0]).toEqual(await store.getTenant('beta'));
    expect(statements).toHaveLength(1);
    expect(await store.getTenants([])).toEqual([]);
  });

  it('loads many apps in one query, in the order asked, undefined for missing ones', async () => {
    const { store, knex } = await createStore(id);
    await store.createTenant(tenantInput('alpha'), alice);
    await store.createTenant(tenantInput('beta'), alice);
    for (const [tenant, name] of [
      ['alpha', 'web'],
      ['alpha', 'api'],
      ['beta', 'web'],
    ]) {
      await store.writeApp({
        tenant,
        name,
        spec: () => appSpecSchema.parse({ image: `nginx:${tenant}` }),
        action: 'deploy',
        actor: alice,
      });
    }
    let found: Array<{ tenant: string; name: string } | undefined> = [];
    const statements = await statementsOf(knex, async () => {
      found = await store.getApps([
        { tenant: 'beta', name: 'web' },
        { tenant: 'beta', name: 'api' },
        { tenant: 'alpha', name: 'api' },
        { tenant: 'alpha', name: 'web' },
      ]);
    });
    expect(found.map(a => a && `${a.tenant}/${a.name}`)).toEqual([
      'beta/web',
      undefined,
      'alpha/api',
      'alpha/web',
    ]);
    expect(found[0]).toEqual(await store.getApp('beta', 'web'));
    expect(statements).toHaveLength(1);
    expect(await store.getApps([])).toEqual([]);
  });

  it("shows updateTenant's check the tenant it then writes", async () => {
    const { store } = await createStore(id);
    await store.createTenant(tenantInput('alpha'), alice);
    const seen: unknown[] = [];
    const updated = await store.updateTenant(
      'alpha',
      { plan: 'pro', limits: { maxApps: 7 }, networkIsolation: false },
      { actor: alice, check: (next, apps) => seen.push({ next, apps }) },
    );
    expect(seen).toEqual([{ next: updated, apps: 0 }]);
    expect(await store.getTenant('alpha')).toEqual(updated);
    // limits: null removes the override, in the check and in the row.
    const cleared = await store.updateTenant(
      'alpha',
      { limits: null },
      {
        actor: alice,
        check: next => {
          if (next.limits !== undefined) throw new Error('limits kept');
        },
      },
    );
    expect(cleared.limits).toBeUndefined();
    expect(await store.getTenant('alpha')).toEqual(cleared);
  });

  it('checks the env size with stored secrets counted, decrypting only a secret sent again', async () => {
    const { store, knex, secretBox } = await createStore(id);
    await store.createTenant(tenantInput('alpha'), alice);
    const big = 'x'.repeat(ENV_TOTAL_MAX_BYTES - 1000);
    const write = (
      env: any[],
      secrets?: Map<string, string>,
      keepSecrets: string[] = [],
    ) =>
      store.writeApp({
        tenant: 'alpha',
        name: 'web',
        spec: () => appSpecSchema.parse({ image: 'nginx:1', env }),
        secrets,
        keepSecrets,
        action: 'deploy',
        actor: alice,
      });
    await write(
      [secretRef('BIG'), secretRef('A'), secretRef('B')],
      new Map([
        ['BIG', big],
        ['A', 'a'],
        ['B', 'b'],
      ]),
    );
    const decrypt = jest.spyOn(secretBox, 'decrypt');
    try {
      // Kept secrets count by their stored size, none decrypted.
      const small = { name: 'SMALL', value: 'y'.repeat(100) };
      const kept = await write(
        [secretRef('BIG'), secretRef('A'), secretRef('B'), small],
        undefined,
        ['BIG', 'A', 'B'],
      );
      expect(kept.revision).toBe(2);
      expect(decrypt).not.toHaveBeenCalled();
      const tooBig = { name: 'LARGE', value: 'z'.repeat(2000) };
      await expect(
        write(
          [secretRef('BIG'), secretRef('A'), secretRef('B'), tooBig],
          undefined,
          ['BIG', 'A', 'B'],
        ),
      ).rejects.toThrow(
        new RegExp(
          `App alpha/web would hold \\d+ bytes of env var names and values, over the limit of ${ENV_TOTAL_MAX_BYTES} bytes per app`,
        ),
      );
      // A refusal is never made on saved counts alone: the three stored
      // values are decrypted and counted before it.
      expect(decrypt).toHaveBeenCalledTimes(3);
      decrypt.mockClear();
      // A count left stale (as by a replica of an older version, which
      // rewrote the value but not its count) does not refuse a write that
      // fits.
      await knex('paved_app_secrets')
        .where({ tenant: 'alpha', app: 'web', name: 'A' })
        .update({ value_bytes: ENV_TOTAL_MAX_BYTES });
      await expect(
        write(
          [secretRef('BIG'), secretRef('A'), secretRef('B'), small],
          undefined,
          ['BIG', 'A', 'B'],
        ),
      ).resolves.toMatchObject({ tenant: 'alpha', name: 'web' });
      await knex('paved_app_secrets')
        .where({ tenant: 'alpha', app: 'web', name: 'A' })
        .update({ value_bytes: 1 });
      decrypt.mockClear();
      // A secret sent again is decrypted to see whether it changed: only it.
      const same = await write(
        [secretRef('BIG'), secretRef('A'), secretRef('B')],
        new Map([['A', 'a']]),
        ['BIG', 'B'],
      );
      expect(decrypt).toHaveBeenCalledTimes(1);
      expect(same.redeployToken).toBe(kept.redeployToken);
      // A row saved before byte counts (value_bytes null) is decrypted to
      // count it, and still counts.
      await knex('paved_app_secrets')
        .where({ tenant: 'alpha', app: 'web', name: 'BIG' })
        .update({ value_bytes: null });
      decrypt.mockClear();
      await expect(
        write(
          [secretRef('BIG'), secretRef('A'), secretRef('B'), tooBig],
          undefined,
          ['BIG', 'A', 'B'],
        ),
      ).rejects.toMatchObject({ name: 'PayloadTooLargeError' });
      // BIG to count it, then all three before refusing.
      expect(decrypt).toHaveBeenCalledTimes(4);
      expect(await store.getSecrets('alpha', 'web')).toEqual(
        new Map([
          ['BIG', big],
          ['A', 'a'],
          ['B', 'b'],
        ]),
      );
    } finally {
      decrypt.mockRestore();
    }
  });
});

describe.each(databases.eachSupportedId())(
  'the history migration on %s',
  id => {
    it("gives each existing tenant a uid and its audit entries to it; a gone tenant's entries keep none", async () => {
      const knex: Knex = await databases.init(id);
      const directory = path.resolve(__dirname, '../../migrations');
      const before = '20261201000001_secret_value_bytes.js';
      // The migrations up to the one before history, one at a time.
      for (;;) {
        const [done] = await knex.migrate.list({ directory });
        const names = done.map((m: any) => m.name ?? m);
        if (names.includes(before)) break;
        await knex.migrate.up({ directory });
      }
      const at = new Date().toISOString();
      await knex('paved_tenants').insert({
        name: 'old',
        display_name: 'Old',
        owner: 'group:default/team-a',
        plan: 'free',
        network_isolation: true,
        created_by: 'user:default/alice',
        created_at: at,
        updated_at: at,
      });
      const entry = (tenant: string) => ({
        at,
        actor: 'user:default/alice',
        principal_type: 'user',
        action: 'tenant.create',
        tenant,
      });
      await knex('paved_audit_log').insert([entry('old'), entry('gone')]);

      await knex.migrate.latest({ directory });
      const tenant = await knex('paved_tenants').where({ name: 'old' }).first();
      expect(tenant.uid).toMatch(/^[0-9a-f-]{36}$/);
      const rows = await knex('paved_audit_log').orderBy('id');
      expect(rows.map((r: any) => [r.tenant, r.tenant_uid, r.via])).toEqual([
        ['old', tenant.uid, 'api'],
        ['gone', null, 'api'],
      ]);
      const store = await DatabasePavedStore.create({
        database: mockServices.database({ knex }),
        secretBox: new SecretBox('test key'),
      });
      expect(
        (await store.listAudit({ tenantUid: tenant.uid, limit: 10 })).map(
          e => e.tenant,
        ),
      ).toEqual(['old']);
    });
  },
);
