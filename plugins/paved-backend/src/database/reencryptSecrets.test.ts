import { mockServices } from '@backstage/backend-test-utils';
import { appSpecSchema } from '@paved/plugin-paved-common';
import { Knex } from 'knex';
import { pavedTestDatabases } from '../__testUtils__/databases';
import { legacyEncrypt } from '../__testUtils__/legacySecrets';
import { startPavedBackend } from '../testUtils/backend';
import { DatabasePavedStore } from './DatabasePavedStore';
import { Actor } from './PavedStore';
import { reencryptSecrets, describeReencrypt } from './reencryptSecrets';
import { SecretBox } from './SecretBox';

jest.setTimeout(60_000);

const databases = pavedTestDatabases();
const alice: Actor = { ref: 'user:default/alice', principalType: 'user' };

const K1 = { id: 'k1', key: 'first passphrase' };
const K2 = { id: 'k2', key: 'second passphrase' };

const storeOn = (knex: Knex, secretBox: SecretBox) =>
  DatabasePavedStore.create({
    database: mockServices.database({ knex }),
    secretBox,
  });

/** Deploys `app` in tenant alpha with one secret env var per entry. */
async function deployWithSecrets(
  store: DatabasePavedStore,
  app: string,
  secrets: Record<string, string>,
) {
  if (!(await store.getTenant('alpha'))) {
    await store.createTenant(
      {
        name: 'alpha',
        displayName: 'Alpha',
        owner: 'group:default/team-a',
        plan: 'pro',
        networkIsolation: true,
      },
      alice,
    );
  }
  await store.writeApp({
    tenant: 'alpha',
    name: app,
    spec: () =>
      appSpecSchema.parse({
        image: 'nginx:1.27',
        env: Object.keys(secrets).map(name => ({
          name,
          secretKeyRef: { name: `${app}-paved-env`, key: name },
        })),
      }),
    secrets: new Map(Object.entries(secrets)),
    action: 'deploy',
    actor: alice,
  });
}

const keyIds = async (knex: Knex) =>
  (
    await knex('paved_app_secrets')
      .select('app', 'name', 'ciphertext')
      .orderBy(['app', 'name'])
  ).map(r => `${r.app}/${r.name}:${r.ciphertext.split('.')[1]}`);

describe.each(databases.eachSupportedId())('key rotation on %s', id => {
  it('reads old values after a key is added, and re-encrypt moves every row to the new key', async () => {
    const knex = await databases.init(id);
    const before = await storeOn(knex, new SecretBox([K1]));
    await deployWithSecrets(before, 'web', { TOKEN: 'tok-1', DB: 'db-1' });
    await deployWithSecrets(before, 'api', { KEY: 'key-1' });
    expect(await keyIds(knex)).toEqual([
      'api/KEY:k1',
      'web/DB:k1',
      'web/TOKEN:k1',
    ]);

    // The new key first: old values still read, new writes use k2.
    const rotated = new SecretBox([K2, K1]);
    const after = await storeOn(knex, rotated);
    expect(await after.getSecrets('alpha', 'web')).toEqual(
      new Map([
        ['DB', 'db-1'],
        ['TOKEN', 'tok-1'],
      ]),
    );
    await deployWithSecrets(after, 'new', { FRESH: 'fresh-1' });

    // Batches of 2, so the keyset paging crosses pages.
    const result = await reencryptSecrets(knex, rotated, { batchSize: 2 });
    expect(result).toEqual({
      reencrypted: 3,
      current: 1,
      skipped: 0,
      failed: [],
    });
    expect(describeReencrypt(result, 'k2')).toBe(
      'Secret env values: 3 re-encrypted under key "k2", 1 already under it',
    );
    expect(await keyIds(knex)).toEqual([
      'api/KEY:k2',
      'new/FRESH:k2',
      'web/DB:k2',
      'web/TOKEN:k2',
    ]);
    const raw = JSON.stringify(await knex('paved_app_secrets').select());
    for (const v of ['tok-1', 'db-1', 'key-1', 'fresh-1']) {
      expect(raw).not.toContain(v);
    }

    // Idempotent: a second pass rewrites nothing.
    const again = await reencryptSecrets(knex, rotated, { batchSize: 2 });
    expect(again).toMatchObject({ reencrypted: 0, current: 4 });

    // The old key can go: only k2 is configured and every value reads.
    const only = await storeOn(knex, new SecretBox([K2]));
    expect(await only.getSecrets('alpha', 'web')).toEqual(
      new Map([
        ['DB', 'db-1'],
        ['TOKEN', 'tok-1'],
      ]),
    );
    expect(await only.getSecrets('alpha', 'api')).toEqual(
      new Map([['KEY', 'key-1']]),
    );
  });

  it('rewrites ciphertexts of before key ids too, and keeps (and names) rows no key decrypts', async () => {
    const knex = await databases.init(id);
    const store = await storeOn(knex, new SecretBox([K1]));
    await deployWithSecrets(store, 'web', { A: 'a-1', B: 'b-1', C: 'c-1' });
    // Row A as the SecretBox of before key ids wrote it (`encryptionKey`).
    await knex('paved_app_secrets')
      .where({ app: 'web', name: 'A' })
      .update({ ciphertext: legacyEncrypt('the old passphrase', 'a-1') });
    // Row C under a key that has since been removed.
    const orphan = new SecretBox([{ id: 'removed', key: 'gone' }]).encrypt(
      'c-1',
    );
    await knex('paved_app_secrets')
      .where({ app: 'web', name: 'C' })
      .update({ ciphertext: orphan });

    const box = SecretBox.fromConfig(
      mockServices.rootConfig({
        data: {
          paved: {
            secrets: { keys: [K2, K1], encryptionKey: 'the old passphrase' },
          },
        },
      }),
    )!;
    const result = await reencryptSecrets(knex, box);
    expect(result.reencrypted).toBe(2);
    expect(result.failed).toEqual([
      {
        tenant: 'alpha',
        app: 'web',
        name: 'C',
        error:
          'Stored secret was encrypted with key "removed", which is not configured (paved.secrets keys: "k2", "k1", "default"); add that key back to read it',
      },
    ]);
    expect(describeReencrypt(result, 'k2')).toMatch(
      /1 could not be decrypted and were kept as they are \(alpha\/web C\): Stored secret was encrypted with key "removed"/,
    );
    expect(await keyIds(knex)).toEqual([
      'web/A:k2',
      'web/B:k2',
      'web/C:removed',
    ]);
    // The row is kept as it was, so adding the key back recovers it.
    expect(
      (await knex('paved_app_secrets').where({ name: 'C' }).first()).ciphertext,
    ).toBe(orphan);
    const after = await storeOn(knex, box);
    await expect(after.getSecrets('alpha', 'web')).rejects.toThrow(
      /encrypted with key "removed", which is not configured/,
    );
  });

  it('runs at backend startup, re-encrypting what an earlier config wrote', async () => {
    const knex = await databases.init(id);
    // Started with the single encryptionKey, as before rotation.
    const first = await startPavedBackend({
      knex,
      config: { paved: { secrets: { encryptionKey: 'the old passphrase' } } },
    });
    await first.request
      .post('/api/paved/tenants')
      .set('authorization', first.as('user:default/alice'))
      .send({
        name: 'alpha',
        displayName: 'Alpha',
        owner: 'group:default/team-a',
        plan: 'starter',
      })
      .expect(201);
    await first.request
      .put('/api/paved/tenants/alpha/apps/web')
      .set('authorization', first.as('user:default/alice'))
      .send({
        image: 'ghcr.io/acme/web:1.0',
        port: 8080,
        env: [{ name: 'TOKEN', value: 'startup-secret', secret: true }],
      })
      .expect(201);
    await first.stop();
    expect(await keyIds(knex)).toEqual(['web/TOKEN:default']);

    // Restarted with a new key first and the old one still configured.
    const second = await startPavedBackend({
      knex,
      config: {
        paved: {
          secrets: {
            keys: [K2],
            encryptionKey: 'the old passphrase',
          },
        },
      },
    });
    expect(await keyIds(knex)).toEqual(['web/TOKEN:k2']);
    const app = await second.request
      .get('/api/paved/tenants/alpha/apps/web')
      .set('authorization', second.as('user:default/alice'))
      .expect(200);
    expect(app.body.env).toEqual([
      { name: 'TOKEN', value: '********', secret: true },
    ]);
    await second.stop();
    const store = await storeOn(knex, new SecretBox([K2]));
    expect(await store.getSecrets('alpha', 'web')).toEqual(
      new Map([['TOKEN', 'startup-secret']]),
    );
  });

  it('saves the byte count of rows written before value_bytes, under the current key or not', async () => {
    const knex = await databases.init(id);
    const box = new SecretBox([K1]);
    const store = await storeOn(knex, box);
    await deployWithSecrets(store, 'web', { A: 'ä-value', B: 'bb' });
    // As rows saved before the column: no byte count.
    await knex('paved_app_secrets').update({ value_bytes: null });
    const rotated = new SecretBox([K2, K1]);
    // B stays under the old key and A moves to the current one first.
    await knex('paved_app_secrets')
      .where({ name: 'A' })
      .update({ ciphertext: rotated.encrypt('ä-value') });
    const result = await reencryptSecrets(knex, rotated);
    expect(result).toMatchObject({ reencrypted: 1, current: 1, failed: [] });
    const rows = await knex('paved_app_secrets')
      .orderBy('name')
      .select('name', 'value_bytes');
    expect(rows.map(r => [r.name, Number(r.value_bytes)])).toEqual([
      ['A', Buffer.byteLength('ä-value')],
      ['B', 2],
    ]);
  });
});
