import crypto from 'crypto';
import { Config } from '@backstage/config';

/** One encryption key: an id (stored with each ciphertext) and a passphrase. */
export interface SecretKey {
  /** Letters, digits, `_` and `-`, at most 64; stored in every ciphertext. */
  id: string;
  /** The passphrase; the AES key is its SHA-256. */
  key: string;
}

/**
 * The id under which `paved.secrets.encryptionKey` (the single-key config
 * of before rotation) encrypts. Ciphertexts written before key ids existed
 * (`v1.…`) are tried with this key first.
 */
export const DEFAULT_KEY_ID = 'default';

const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

interface LoadedKey {
  id: string;
  aes: Buffer;
}

/**
 * Encrypts secret env values at rest (AES-256-GCM). Values are only
 * decrypted to write the Kubernetes Secret, never to answer an API call.
 *
 * It holds a list of keys: the first encrypts, every one decrypts. A
 * ciphertext names its key: `v2.<keyId>.<iv>.<tag>.<body>` (base64 parts;
 * the key id is also authenticated, as GCM additional data). Ciphertexts of
 * before key ids (`v1.<iv>.<tag>.<body>`) stay readable: the key with id
 * {@link DEFAULT_KEY_ID} is tried first, then the others.
 */
export class SecretBox {
  private readonly keys: LoadedKey[];

  /**
   * Reads `paved.secrets.keys` (a list of `{ id, key }`, the first encrypts)
   * and `paved.secrets.encryptionKey` (one key, id `default`; with `keys`
   * too it decrypts only, which is how a rotation from the single key
   * starts). Returns undefined when neither is set.
   */
  static fromConfig(config: Config): SecretBox | undefined {
    const keys: SecretKey[] = (
      config.getOptionalConfigArray('paved.secrets.keys') ?? []
    ).map(k => ({ id: k.getString('id'), key: k.getString('key') }));
    const single = config.getOptionalString('paved.secrets.encryptionKey');
    if (single !== undefined) {
      if (keys.some(k => k.id === DEFAULT_KEY_ID)) {
        throw new Error(
          `paved.secrets: both encryptionKey and a key with id "${DEFAULT_KEY_ID}" in keys are set; encryptionKey is the key "${DEFAULT_KEY_ID}", keep only one of them`,
        );
      }
      keys.push({ id: DEFAULT_KEY_ID, key: single });
    }
    return keys.length ? new SecretBox(keys) : undefined;
  }

  /**
   * @param keys - a passphrase (one key, id `default`), or the keys, the
   * first of which encrypts.
   */
  constructor(keys: string | SecretKey[]) {
    const list =
      typeof keys === 'string' ? [{ id: DEFAULT_KEY_ID, key: keys }] : keys;
    if (!list.length) {
      throw new Error('paved.secrets: at least one encryption key is needed');
    }
    const seen = new Set<string>();
    this.keys = list.map(({ id, key }, index) => {
      if (typeof id !== 'string' || !KEY_ID.test(id)) {
        throw new Error(
          `paved.secrets.keys[${index}]: key id "${id}" must be 1 to 64 letters, digits, "_" or "-"`,
        );
      }
      if (seen.has(id)) {
        throw new Error(`paved.secrets.keys: key id "${id}" is listed twice`);
      }
      seen.add(id);
      if (typeof key !== 'string' || key.length === 0) {
        throw new Error(`paved.secrets.keys: key "${id}" is empty`);
      }
      return { id, aes: crypto.createHash('sha256').update(key).digest() };
    });
  }

  /** The id of the key that encrypts. */
  get currentKeyId(): string {
    return this.keys[0].id;
  }

  /** The ids of every configured key, the current one first. */
  get keyIds(): string[] {
    return this.keys.map(k => k.id);
  }

  encrypt(plain: string): string {
    const { id, aes } = this.keys[0];
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', aes, iv);
    cipher.setAAD(Buffer.from(id, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [
      'v2',
      id,
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      body.toString('base64'),
    ].join('.');
  }

  /**
   * The id of the key a ciphertext was made with, or undefined for one of
   * before key ids (`v1`). Throws for what is not a ciphertext.
   */
  keyIdOf(sealed: string): string | undefined {
    return parse(sealed).keyId;
  }

  /** Whether a ciphertext is under the current key (re-encrypting it would change nothing). */
  isCurrent(sealed: string): boolean {
    return this.keyIdOf(sealed) === this.currentKeyId;
  }

  decrypt(sealed: string): string {
    const parsed = parse(sealed);
    if (parsed.keyId !== undefined) {
      const key = this.keys.find(k => k.id === parsed.keyId);
      if (!key) {
        throw new Error(
          `Stored secret was encrypted with key "${
            parsed.keyId
          }", which is not configured (paved.secrets keys: ${this.keyIds
            .map(id => `"${id}"`)
            .join(', ')}); add that key back to read it`,
        );
      }
      try {
        return open(key.aes, parsed, Buffer.from(key.id, 'utf8'));
      } catch {
        throw new Error(
          `Stored secret could not be decrypted with key "${key.id}": the key configured under that id is not the one it was encrypted with, or the value was tampered with`,
        );
      }
    }
    // v1: no key id. Written with `encryptionKey`, so try `default` first.
    const order = [
      ...this.keys.filter(k => k.id === DEFAULT_KEY_ID),
      ...this.keys.filter(k => k.id !== DEFAULT_KEY_ID),
    ];
    for (const key of order) {
      try {
        return open(key.aes, parsed);
      } catch {
        // GCM's tag says whether this was the key; try the next one.
      }
    }
    throw new Error(
      `Stored secret was encrypted without a key id (before key rotation) and none of the configured keys (${this.keyIds
        .map(id => `"${id}"`)
        .join(
          ', ',
        )}) decrypts it; add the former paved.secrets.encryptionKey back`,
    );
  }
}

interface Parsed {
  keyId?: string;
  iv: Buffer;
  tag: Buffer;
  body: Buffer;
}

function parse(sealed: string): Parsed {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  if (parts[0] === 'v2' && parts.length === 5 && KEY_ID.test(parts[1])) {
    const [, keyId, iv, tag, body] = parts;
    return {
      keyId,
      iv: Buffer.from(iv, 'base64'),
      tag: Buffer.from(tag, 'base64'),
      body: Buffer.from(body, 'base64'),
    };
  }
  if (parts[0] === 'v1' && parts.length === 4 && parts[1] && parts[2]) {
    const [, iv, tag, body] = parts;
    return {
      iv: Buffer.from(iv, 'base64'),
      tag: Buffer.from(tag, 'base64'),
      body: Buffer.from(body, 'base64'),
    };
  }
  throw new Error('Stored secret is not in a known format');
}

function open(aes: Buffer, parsed: Parsed, aad?: Buffer): string {
  const decipher = crypto.createDecipheriv('aes-256-gcm', aes, parsed.iv);
  if (aad) decipher.setAAD(aad);
  decipher.setAuthTag(parsed.tag);
  return Buffer.concat([
    decipher.update(parsed.body),
    decipher.final(),
  ]).toString('utf8');
}
