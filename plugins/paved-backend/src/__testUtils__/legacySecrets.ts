import crypto from 'crypto';

/** A ciphertext as SecretBox wrote it before key ids (`v1`, no id). */
export function legacyEncrypt(passphrase: string, plain: string): string {
  const key = crypto.createHash('sha256').update(passphrase).digest();
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), body]
    .map(part => (typeof part === 'string' ? part : part.toString('base64')))
    .join('.');
}
