import { mockServices } from '@backstage/backend-test-utils';
import { appSpecSchema, AppSpec } from '@paved/plugin-paved-common';
import { Knex } from 'knex';
import { pavedTestDatabases } from '../__testUtils__/databases';
import { DatabasePavedStore } from './DatabasePavedStore';
import { DOMAINS } from './DomainStore';
import { Actor } from './PavedStore';
import { SecretBox } from './SecretBox';

jest.setTimeout(60_000);

const databases = pavedTestDatabases();
const alice: Actor = { ref: 'user:default/alice', principalType: 'user' };
const bob: Actor = { ref: 'user:default/bob', principalType: 'user' };
const CERT = {
  certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  privateKey:
    '-----BEGIN PRIVATE KEY-----\nsecret-key-material\n-----END PRIVATE KEY-----\n',
  notAfter: '2030-01-01T00:00:00.000Z',
};

async function createStore(databaseId: any) {
  const knex: Knex = await databases.init(databaseId);
  const store = await DatabasePavedStore.create({
    database: mockServices.database({ knex }),
    secretBox: new SecretBox('test key'),
  });
  for (const [name, owner] of [
    ['alpha', 'group:default/team-a'],
    ['beta', 'group:default/team-b'],
  ]) {
    await store.createTenant(
      { name, displayName: name, owner, plan: 'free', networkIsolation: true },
      alice,
    );
  }
  return { knex, store };
}

const spec = (domains: string[]): AppSpec =>
  appSpecSchema.parse({ image: 'ghcr.io/acme/web:1.0.0', domains });

const deploy = (
  store: DatabasePavedStore,
  tenant: string,
  name: string,
  domains: string[],
  certificates?: Map<string, typeof CERT | null>,
) =>
  store.writeApp({
    tenant,
    name,
    action: 'deploy',
    actor: tenant === 'alpha' ? alice : bob,
    spec: () => spec(domains),
    certificates,
  });

describe.each(databases.eachSupportedId())('domain claims on %s', id => {
  it('a domain is one tenant’s: another tenant’s write is refused (409) and changes nothing', async () => {
    const { store, knex } = await createStore(id);
    await deploy(store, 'alpha', 'web', ['shop.example.com']);
    await expect(
      deploy(store, 'beta', 'copy', ['other.example.com', 'shop.example.com']),
    ).rejects.toThrow(
      'Domain shop.example.com is in use by another tenant; choose another domain, or ask the tenant that has it to remove it from its app (the platform team can see which tenant)',
    );
    expect(await store.getApp('beta', 'copy')).toBeUndefined();
    expect(
      await knex(DOMAINS).select('domain', 'tenant', 'app').orderBy('domain'),
    ).toEqual([{ domain: 'shop.example.com', tenant: 'alpha', app: 'web' }]);
  });

  it('two tenants claiming one domain at once: exactly one wins', async () => {
    const { store, knex } = await createStore(id);
    const results = await Promise.allSettled([
      deploy(store, 'alpha', 'web', ['race.example.com']),
      deploy(store, 'beta', 'web', ['race.example.com']),
    ]);
    const won = results.filter(r => r.status === 'fulfilled');
    const lost = results.filter(r => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(String((lost[0] as PromiseRejectedResult).reason)).toMatch(
      /race\.example\.com is in use by another tenant/,
    );
    const rows = await knex(DOMAINS).where({ domain: 'race.example.com' });
    expect(rows).toHaveLength(1);
    const winner = rows[0].tenant;
    expect((await store.getApp(winner, 'web'))!.spec.domains).toEqual([
      'race.example.com',
    ]);
    const loser = winner === 'alpha' ? 'beta' : 'alpha';
    expect(await store.getApp(loser, 'web')).toBeUndefined();
  });

  it('within a tenant a domain moves between apps, certificate included; removing it releases it', async () => {
    const { store, knex } = await createStore(id);
    await deploy(
      store,
      'alpha',
      'web',
      ['shop.example.com', 'www.example.com'],
      new Map([['shop.example.com', CERT]]),
    );
    const web = (await store.getApp('alpha', 'web'))!;
    expect(web.spec.tls).toEqual([
      {
        domain: 'shop.example.com',
        secretName: 'paved-tls-shop.example.com',
        notAfter: CERT.notAfter,
      },
    ]);
    // The key is stored encrypted.
    const [row] = await knex(DOMAINS).where({ domain: 'shop.example.com' });
    expect(row.private_key).toMatch(/^v2\.default\./);
    expect(row.private_key).not.toContain('secret-key-material');
    expect(await store.domainCertificates('alpha')).toEqual([
      { domain: 'shop.example.com', tenant: 'alpha', app: 'web', ...CERT },
    ]);

    const moved = await deploy(store, 'alpha', 'shop', ['shop.example.com']);
    expect(moved.moved).toEqual(['web']);
    expect(moved.spec.tls).toEqual(web.spec.tls);
    const left = (await store.getApp('alpha', 'web'))!;
    expect(left.spec.domains).toEqual(['www.example.com']);
    expect(left.spec.tls).toBeUndefined();
    expect(left.generation).toBe(web.generation + 1);
    expect(
      (await store.listRevisions('alpha', 'web')).map(r => r.action),
    ).toContain('domains');

    // Removing it (a deploy without it) releases it for everyone.
    await deploy(store, 'alpha', 'shop', []);
    expect(await knex(DOMAINS).where({ domain: 'shop.example.com' })).toEqual(
      [],
    );
    await deploy(store, 'beta', 'web', ['shop.example.com']);
    expect((await store.getApp('beta', 'web'))!.spec.tls).toBeUndefined();
  });

  it('a null certificate removes TLS; purging the app releases its domains', async () => {
    const { store, knex } = await createStore(id);
    await deploy(
      store,
      'alpha',
      'web',
      ['shop.example.com'],
      new Map([['shop.example.com', CERT]]),
    );
    const plain = await deploy(
      store,
      'alpha',
      'web',
      ['shop.example.com'],
      new Map([['shop.example.com', null]]),
    );
    expect(plain.spec.tls).toBeUndefined();
    expect(await store.domainCertificates('alpha')).toEqual([]);
    await store.markAppDeleting('alpha', 'web', alice);
    await store.purgeApp('alpha', 'web');
    expect(await knex(DOMAINS)).toEqual([]);
  });
});
