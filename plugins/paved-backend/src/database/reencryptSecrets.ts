import { Knex } from 'knex';
import { SecretBox } from './SecretBox';

const SECRETS = 'paved_app_secrets';

/** What a re-encrypt pass did. */
export interface ReencryptResult {
  /** Rows rewritten under the current key. */
  reencrypted: number;
  /** Rows already under the current key, left as they were. */
  current: number;
  /** Rows changed by a concurrent write while this pass ran; kept as that write left them (the next pass looks again). */
  skipped: number;
  /** Rows no configured key decrypts, with the reason (never the value). */
  failed: Array<{ tenant: string; app: string; name: string; error: string }>;
}

/**
 * Rewrites every stored secret (`paved_app_secrets.ciphertext`) that is not
 * under the SecretBox's current key: decrypt with whichever key it names,
 * encrypt with the first. Idempotent (a second pass rewrites nothing), safe
 * to run on every replica at once (each update is conditional on the row
 * still holding the ciphertext that was read, so a concurrent write or
 * another replica's pass is never overwritten), and it never throws for a
 * row it cannot decrypt: that row is kept and reported in `failed`. Rows
 * saved before byte counts get theirs (`value_bytes`) on the way.
 */
export async function reencryptSecrets(
  knex: Knex,
  secretBox: SecretBox,
  options: { batchSize?: number } = {},
): Promise<ReencryptResult> {
  const batchSize = options.batchSize ?? 500;
  const result: ReencryptResult = {
    reencrypted: 0,
    current: 0,
    skipped: 0,
    failed: [],
  };
  // Keyset pagination on the primary key, so a large table is read in
  // batches and rows rewritten meanwhile are neither skipped nor read twice.
  let after: { tenant: string; app: string; name: string } | undefined;
  for (;;) {
    let query = knex(SECRETS)
      .select('tenant', 'app', 'name', 'ciphertext', 'value_bytes')
      .orderBy([{ column: 'tenant' }, { column: 'app' }, { column: 'name' }])
      .limit(batchSize);
    if (after) {
      const a = after;
      query = query.where(q =>
        q
          .where('tenant', '>', a.tenant)
          .orWhere(q2 => q2.where('tenant', a.tenant).where('app', '>', a.app))
          .orWhere(q3 =>
            q3
              .where('tenant', a.tenant)
              .where('app', a.app)
              .where('name', '>', a.name),
          ),
      );
    }
    const rows: Array<{
      tenant: string;
      app: string;
      name: string;
      ciphertext: string;
      value_bytes: number | null;
    }> = await query;
    for (const row of rows) {
      const where = { tenant: row.tenant, app: row.app, name: row.name };
      let current: boolean;
      let ciphertext: string;
      let valueBytes = row.value_bytes;
      try {
        current = secretBox.isCurrent(row.ciphertext);
        if (current) {
          ciphertext = row.ciphertext;
        } else {
          const plain = secretBox.decrypt(row.ciphertext);
          valueBytes = Buffer.byteLength(plain);
          ciphertext = secretBox.encrypt(plain);
        }
      } catch (error) {
        result.failed.push({
          ...where,
          error: error instanceof Error ? error.message : String(error),
        });
        continue;
      }
      if (current) {
        result.current += 1;
        await fillValueBytes(knex, secretBox, row);
        continue;
      }
      const updated = await knex(SECRETS)
        .where({ ...where, ciphertext: row.ciphertext })
        .update({ ciphertext, value_bytes: valueBytes });
      if (updated) result.reencrypted += 1;
      else result.skipped += 1;
    }
    if (rows.length < batchSize) break;
    const last = rows[rows.length - 1];
    after = { tenant: last.tenant, app: last.app, name: last.name };
  }
  return result;
}

/**
 * Saves the byte count of a row written before `value_bytes` existed, so
 * app writes count its size without decrypting it. Conditional on the
 * ciphertext read, like the rewrite; a row that does not decrypt is left to
 * the write that counts it (which decrypts and reports it then).
 */
async function fillValueBytes(
  knex: Knex,
  secretBox: SecretBox,
  row: {
    tenant: string;
    app: string;
    name: string;
    ciphertext: string;
    value_bytes: number | null;
  },
) {
  if (row.value_bytes !== null && row.value_bytes !== undefined) return;
  let bytes: number;
  try {
    bytes = Buffer.byteLength(secretBox.decrypt(row.ciphertext));
  } catch {
    return;
  }
  await knex(SECRETS)
    .where({
      tenant: row.tenant,
      app: row.app,
      name: row.name,
      ciphertext: row.ciphertext,
    })
    .update({ value_bytes: bytes });
}

/** One line for the log: counts and, for failures, the key problems (never values). */
export function describeReencrypt(
  result: ReencryptResult,
  currentKeyId: string,
): string {
  const parts = [
    `${result.reencrypted} re-encrypted under key "${currentKeyId}"`,
    `${result.current} already under it`,
  ];
  if (result.skipped) {
    parts.push(`${result.skipped} changed meanwhile by a write and left to it`);
  }
  if (result.failed.length) {
    const reasons = [...new Set(result.failed.map(f => f.error))];
    parts.push(
      `${
        result.failed.length
      } could not be decrypted and were kept as they are (${result.failed
        .slice(0, 5)
        .map(f => `${f.tenant}/${f.app} ${f.name}`)
        .join(', ')}${result.failed.length > 5 ? ', …' : ''}): ${reasons.join(
        '; ',
      )}`,
    );
  }
  return `Secret env values: ${parts.join(', ')}`;
}
