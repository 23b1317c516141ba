import { ConfigReader } from '@backstage/config';
import { SecretBox } from './SecretBox';
import { legacyEncrypt } from '../__testUtils__/legacySecrets';

const fromConfig = (secrets: object) =>
  SecretBox.fromConfig(new ConfigReader({ paved: { secrets } }));

describe('SecretBox', () => {
  it('names the key in each ciphertext, and decrypts with any configured key', () => {
    const old = new SecretBox([{ id: 'k1', key: 'first passphrase' }]);
    const sealed = old.encrypt('s3cret');
    expect(sealed).toMatch(/^v2\.k1\./);
    expect(sealed).not.toContain('s3cret');
    expect(old.keyIdOf(sealed)).toBe('k1');

    const rotated = new SecretBox([
      { id: 'k2', key: 'second passphrase' },
      { id: 'k1', key: 'first passphrase' },
    ]);
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.decrypt(sealed)).toBe('s3cret');
    expect(rotated.isCurrent(sealed)).toBe(false);
    const resealed = rotated.encrypt('s3cret');
    expect(resealed).toMatch(/^v2\.k2\./);
    expect(rotated.isCurrent(resealed)).toBe(true);
    expect(rotated.decrypt(resealed)).toBe('s3cret');
  });

  it('says which key id is missing when a value was encrypted with a removed key', () => {
    const sealed = new SecretBox([{ id: 'retired-2025', key: 'a' }]).encrypt(
      'v',
    );
    const box = new SecretBox([{ id: 'k2', key: 'b' }]);
    expect(() => box.decrypt(sealed)).toThrow(
      'Stored secret was encrypted with key "retired-2025", which is not configured (paved.secrets keys: "k2"); add that key back to read it',
    );
  });

  it('says so when the key under an id is not the one a value was encrypted with', () => {
    const sealed = new SecretBox([{ id: 'k1', key: 'right' }]).encrypt('v');
    expect(() =>
      new SecretBox([{ id: 'k1', key: 'wrong' }]).decrypt(sealed),
    ).toThrow(/could not be decrypted with key "k1"/);
  });

  it('authenticates the key id: a ciphertext relabelled to another key does not open', () => {
    const box = new SecretBox([
      { id: 'k1', key: 'same' },
      { id: 'k2', key: 'same' },
    ]);
    const relabelled = box.encrypt('v').replace(/^v2\.k1\./, 'v2.k2.');
    expect(() => box.decrypt(relabelled)).toThrow(/could not be decrypted/);
  });

  it('reads ciphertexts of before key ids with encryptionKey (id "default"), first or not', () => {
    const legacy = legacyEncrypt('the old passphrase', 'legacy value');
    const single = new SecretBox('the old passphrase');
    expect(single.currentKeyId).toBe('default');
    expect(single.decrypt(legacy)).toBe('legacy value');
    expect(single.keyIdOf(legacy)).toBeUndefined();
    expect(single.isCurrent(legacy)).toBe(false);
    expect(single.encrypt('x')).toMatch(/^v2\.default\./);

    // Rotating: a new key first, the old passphrase still configured.
    const rotating = fromConfig({
      keys: [{ id: 'k2', key: 'new' }],
      encryptionKey: 'the old passphrase',
    })!;
    expect(rotating.keyIds).toEqual(['k2', 'default']);
    expect(rotating.decrypt(legacy)).toBe('legacy value');

    // Or the old passphrase listed under any id.
    const listed = fromConfig({
      keys: [
        { id: 'k2', key: 'new' },
        { id: 'old', key: 'the old passphrase' },
      ],
    })!;
    expect(listed.decrypt(legacy)).toBe('legacy value');

    expect(() =>
      fromConfig({ keys: [{ id: 'k2', key: 'new' }] })!.decrypt(legacy),
    ).toThrow(
      /encrypted without a key id \(before key rotation\) and none of the configured keys \("k2"\) decrypts it/,
    );
  });

  it('reads its config, and refuses configs that are ambiguous or malformed', () => {
    expect(fromConfig({})).toBeUndefined();
    expect(fromConfig({ encryptionKey: 'p' })!.keyIds).toEqual(['default']);
    expect(
      fromConfig({
        keys: [
          { id: 'a', key: '1' },
          { id: 'b', key: '2' },
        ],
      })!.keyIds,
    ).toEqual(['a', 'b']);
    expect(() =>
      fromConfig({ encryptionKey: 'p', keys: [{ id: 'default', key: 'q' }] }),
    ).toThrow(/both encryptionKey and a key with id "default"/);
    expect(() =>
      fromConfig({
        keys: [
          { id: 'a', key: '1' },
          { id: 'a', key: '2' },
        ],
      }),
    ).toThrow(/key id "a" is listed twice/);
    expect(() => fromConfig({ keys: [{ id: 'a.b', key: '1' }] })).toThrow(
      /key id "a.b" must be 1 to 64 letters/,
    );
    expect(() => new SecretBox([{ id: 'a', key: '' }])).toThrow(
      /key "a" is empty/,
    );
    expect(() => new SecretBox('p').decrypt('plain text')).toThrow(
      'Stored secret is not in a known format',
    );
  });
});
