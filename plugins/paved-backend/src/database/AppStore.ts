import { isDatabaseConflictError } from '@backstage/backend-plugin-api';
import {
  ConflictError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import { AppSpec, ENV_TOTAL_MAX_BYTES } from '@paved/plugin-paved-common';
import crypto from 'crypto';
import type { Knex } from 'knex';
import { PayloadTooLargeError } from '../service/errors';
import { AuditStore } from './AuditStore';
import type {
  Actor,
  AppRecord,
  AppWrite,
  PavedAppStore,
  ListAppsOptions,
  WrittenApp,
} from './PavedStore';
import { RevisionStore } from './RevisionStore';
import {
  APPS,
  MAX_ERROR_LENGTH,
  SECRETS,
  SpecCache,
  TENANTS,
  applyTenantFilter,
  checkGeneration,
  inTransaction,
  lockTenant,
  locked,
  markApplied,
  nowIso,
  toApp,
  toTenant,
} from './rows';
import type { SecretBox } from './SecretBox';
import type { DomainStore } from './DomainStore';

/** A stored secret as an app write sees it: its size without decrypting it. */
interface StoredSecret {
  name: string;
  ciphertext: string;
  /** Bytes of the plain value; null for rows written before the column existed. */
  value_bytes: number | null;
}

/** Apps, with their secret env values (encrypted) and sync bookkeeping. */
export class AppStore implements PavedAppStore {
  private readonly specCache: SpecCache = new Map();

  constructor(
    private readonly db: Knex,
    private readonly revisions: RevisionStore,
    private readonly audit: AuditStore,
    private readonly secretBox?: SecretBox,
    private readonly domains?: DomainStore,
  ) {}

  async listApps(options?: ListAppsOptions): Promise<AppRecord[]> {
    const query = this.db(APPS)
      .join(TENANTS, `${TENANTS}.name`, `${APPS}.tenant`)
      .select(`${APPS}.*`)
      .where(`${APPS}.deleting`, false)
      .andWhere(`${TENANTS}.deleting`, false)
      .orderBy([`${APPS}.tenant`, `${APPS}.name`]);
    if (options?.tenant) query.andWhere(`${APPS}.tenant`, options.tenant);
    const after = options?.after;
    if (after) {
      // Keyset paging on the primary key (tenant, name): no offset to skip.
      query.andWhere(q =>
        q
          .where(`${APPS}.tenant`, '>', after.tenant)
          .orWhere(q2 =>
            q2
              .where(`${APPS}.tenant`, after.tenant)
              .andWhere(`${APPS}.name`, '>', after.name),
          ),
      );
    }
    if (options?.limit !== undefined) query.limit(options.limit);
    if (options?.filter) {
      applyTenantFilter(query, options.filter, {
        owner: `${TENANTS}.owner`,
        name: `${TENANTS}.name`,
      });
    }
    return (await query).map(row => toApp(row, this.specCache));
  }

  async getApp(tenant: string, name: string): Promise<AppRecord | undefined> {
    const row = await this.db(APPS).where({ tenant, name }).first();
    return row ? toApp(row, this.specCache) : undefined;
  }

  async getApps(
    keys: Array<{ tenant: string; name: string }>,
  ): Promise<Array<AppRecord | undefined>> {
    const byKey = new Map<string, AppRecord>();
    // In chunks, well under either database's limit on bound parameters.
    for (let at = 0; at < keys.length; at += 500) {
      const pairs = keys.slice(at, at + 500).map(k => [k.tenant, k.name]);
      const rows = await this.db(APPS).whereIn(['tenant', 'name'], pairs);
      for (const row of rows) {
        byKey.set(`${row.tenant}/${row.name}`, toApp(row, this.specCache));
      }
    }
    return keys.map(k => byKey.get(`${k.tenant}/${k.name}`));
  }

  /** Apps whose applied generation is behind, or being deleted. */
  async listBehindApps(): Promise<AppRecord[]> {
    const rows = await this.db(APPS)
      .whereRaw('applied_generation < generation')
      .orWhere('deleting', true)
      .orderBy(['tenant', 'name']);
    return rows.map(row => toApp(row));
  }

  async writeApp(write: AppWrite): Promise<WrittenApp> {
    if (write.secrets?.size && !this.secretBox) {
      throw new ServiceUnavailableError(
        'Secret env values cannot be stored: the platform team has set no encryption key in app-config (paved.secrets.keys or paved.secrets.encryptionKey)',
      );
    }
    // Two first deploys of one app can both find no row; the loser's insert
    // conflicts and it retries as an update of the winner's row.
    for (let attempt = 0; ; attempt++) {
      try {
        return await inTransaction(this.db, tx => this.writeAppIn(tx, write));
      } catch (error) {
        if (isDatabaseConflictError(error) && attempt < 3) continue;
        throw error;
      }
    }
  }

  /**
   * One app write in `tx`: the tenant row locked (a deploy and a plan
   * downgrade cannot both pass the maxApps check) and the caller's access
   * checked against it, the app row read once
   * (locked) and written once, its stored secrets read (not decrypted) and
   * the ones that change written, one revision and
   * one audit entry. The answer is built from what was written, not read
   * back.
   */
  private async writeAppIn(
    tx: Knex.Transaction,
    write: AppWrite,
  ): Promise<WrittenApp> {
    const { tenant, name, actor } = write;
    const tenantRow = await lockTenant(tx, tenant);
    write.authorizeTenant?.(toTenant(tenantRow));
    const row = await locked(tx, tx(APPS).where({ tenant, name })).first();
    const current = row && !row.deleting ? toApp(row) : undefined;
    write.authorize?.(current);
    const keepSecrets =
      typeof write.keepSecrets === 'function'
        ? write.keepSecrets(current)
        : write.keepSecrets ?? [];
    if (write.expectedGeneration !== undefined) {
      const actual = current?.generation ?? 0;
      if (actual !== write.expectedGeneration) {
        throw new ConflictError(
          current
            ? `App ${tenant}/${name} changed since you read it (generation ${actual}, you sent expectedGeneration ${write.expectedGeneration}); read it again and retry`
            : `App ${tenant}/${name} does not exist, but you sent expectedGeneration ${write.expectedGeneration}; send 0 or leave it out to create it`,
        );
      }
    }
    if (!current && write.maxApps !== undefined) {
      const maxApps = write.maxApps(toTenant(tenantRow));
      const [{ count }] = await tx(APPS)
        .where({ tenant, deleting: false })
        .count({ count: '*' });
      if (Number(count) >= maxApps) {
        throw new ConflictError(
          `Tenant ${tenant} already has ${count} apps, the most its plan allows (maxApps ${maxApps}); delete an app or move the tenant to a bigger plan`,
        );
      }
    }
    const now = nowIso();
    // The domain claim (one tenant per domain) and the TLS list.
    const claim = this.domains
      ? await this.domains.claim(
          tx,
          {
            ...write,
            now,
            previous: row ? toApp(row, this.specCache).spec.domains : [],
          },
          write.spec(current),
        )
      : { spec: write.spec(current), moved: [], save: async () => {} };
    const spec = claim.spec;
    // Read, not decrypted: their sizes count, and the ones not kept go.
    const stored: StoredSecret[] = current
      ? await tx(SECRETS)
          .where({ tenant, app: name })
          .select('name', 'ciphertext', 'value_bytes')
      : [];
    const secretsChanged = this.checkEnvSize(write, spec, stored, keepSecrets);

    const revision = (row ? Number(row.revision) : 0) + 1;
    const generation = (row ? Number(row.generation) : 0) + 1;
    const values = {
      image: spec.image,
      spec: JSON.stringify(spec),
      revision,
      generation,
      deleting: false,
      last_error: null,
      updated_by: actor.ref,
      updated_at: now,
      // A new secret value rolls a new revision, so running instances
      // read it: Kubernetes does not restart pods when a Secret changes.
      ...(write.redeploy || secretsChanged
        ? { redeploy_token: crypto.randomBytes(8).toString('hex') }
        : {}),
      // Reviving a row that was waiting for deletion: start its life anew.
      ...(current ? {} : { created_by: actor.ref, created_at: now }),
    };
    let written: Record<string, unknown>;
    if (row) {
      await tx(APPS).where({ tenant, name }).update(values);
      written = { ...row, ...values };
      if (!current) await tx(SECRETS).where({ tenant, app: name }).delete();
    } else {
      written = { tenant, name, ...values, applied_generation: 0 };
      await tx(APPS).insert(written);
      written.secret_applied = false;
    }
    await this.writeSecrets(tx, write, stored, keepSecrets);
    await claim.save();
    await this.revisions.record(tx, {
      tenant,
      app: name,
      revision,
      action: write.action,
      spec,
      actor,
      at: now,
    });
    await this.audit.record(tx, actor, `app.${write.action}`, tenant, name, {
      revision,
      image: spec.image,
      ...write.detail,
    });
    return { ...toApp(written), created: !current, moved: claim.moved };
  }

  /**
   * Refuses a write whose env, secret values included, would be over
   * ENV_TOTAL_MAX_BYTES; answers whether any secret value changes. Stored
   * values count by their saved byte count: only a stored value that this
   * write sends again is decrypted (to see whether it changed), and a row
   * saved before byte counts were (value_bytes null) when it is counted.
   * Before refusing, every stored value is decrypted and counted again, so a
   * byte count left stale by an older replica cannot refuse a write.
   */
  private checkEnvSize(
    write: AppWrite,
    spec: AppSpec,
    stored: StoredSecret[],
    keepSecrets: string[],
  ): boolean {
    const byName = new Map(stored.map(s => [s.name, s]));
    const plain = (secret: StoredSecret) =>
      this.secretBox!.decrypt(secret.ciphertext);
    // `exact`: decrypt every stored value instead of trusting its saved byte
    // count (which a replica of an older version may have left stale).
    const count = (exact: boolean) => {
      let bytes = 0;
      for (const entry of spec.env) {
        bytes += Buffer.byteLength(entry.name);
        if (!entry.secretKeyRef) {
          bytes += Buffer.byteLength(entry.value ?? '');
          continue;
        }
        const sent = write.secrets?.get(entry.name);
        const saved = byName.get(entry.name);
        if (sent !== undefined) bytes += Buffer.byteLength(sent);
        else if (saved && this.secretBox) {
          bytes +=
            (exact ? null : saved.value_bytes) ??
            Buffer.byteLength(plain(saved));
        }
      }
      return bytes;
    };
    let bytes = count(false);
    // A refusal is never made on a saved count alone.
    if (bytes > ENV_TOTAL_MAX_BYTES) bytes = count(true);
    if (bytes > ENV_TOTAL_MAX_BYTES) {
      throw new PayloadTooLargeError(
        `App ${write.tenant}/${write.name} would hold ${bytes} bytes of env var names and values, over the limit of ${ENV_TOTAL_MAX_BYTES} bytes per app; remove env vars or move large values into a file in the image`,
      );
    }
    if (!this.secretBox) return false;
    const kept = new Set(keepSecrets);
    const removed = stored.some(
      s => !kept.has(s.name) && !write.secrets?.has(s.name),
    );
    const changed = [...(write.secrets ?? [])].some(([n, value]) => {
      const saved = byName.get(n);
      return !saved || plain(saved) !== value;
    });
    return removed || changed;
  }

  /** Removes stored secrets not kept (one DELETE) and saves the sent ones (one upsert). */
  private async writeSecrets(
    tx: Knex.Transaction,
    write: AppWrite,
    stored: StoredSecret[],
    keepSecrets: string[],
  ) {
    const keep = new Set([...keepSecrets, ...(write.secrets?.keys() ?? [])]);
    const where = { tenant: write.tenant, app: write.name };
    const gone = stored.map(s => s.name).filter(n => !keep.has(n));
    if (gone.length) {
      await tx(SECRETS).where(where).whereIn('name', gone).delete();
    }
    if (write.secrets?.size) {
      await tx(SECRETS)
        .insert(
          [...write.secrets].map(([envName, value]) => ({
            ...where,
            name: envName,
            ciphertext: this.secretBox!.encrypt(value),
            value_bytes: Buffer.byteLength(value),
          })),
        )
        .onConflict(['tenant', 'app', 'name'])
        .merge(['ciphertext', 'value_bytes']);
    }
  }

  async getSecrets(tenant: string, app: string): Promise<Map<string, string>> {
    const rows = await this.db(SECRETS).where({ tenant, app });
    const values = new Map<string, string>();
    if (rows.length && !this.secretBox) {
      throw new ServiceUnavailableError(
        'Secret env values cannot be read: no encryption key is set (paved.secrets.keys or paved.secrets.encryptionKey)',
      );
    }
    for (const row of rows) {
      values.set(row.name, this.secretBox!.decrypt(row.ciphertext));
    }
    return values;
  }

  async markAppDeleting(
    tenant: string,
    name: string,
    actor: Actor,
    options?: { expectedGeneration?: number },
  ): Promise<void> {
    await inTransaction(this.db, async tx => {
      await lockTenant(tx, tenant);
      const row = await tx(APPS).where({ tenant, name }).first();
      if (!row || row.deleting) {
        throw new NotFoundError(`App ${tenant}/${name} not found`);
      }
      checkGeneration(
        `App ${tenant}/${name}`,
        row,
        options?.expectedGeneration,
      );
      await tx(APPS)
        .where({ tenant, name })
        .update({
          deleting: true,
          generation: Number(row.generation) + 1,
          last_error: null,
          updated_by: actor.ref,
          updated_at: nowIso(),
        });
      await this.audit.record(tx, actor, 'app.delete', tenant, name);
    });
  }

  async markAppApplied(
    tenant: string,
    name: string,
    generation: number,
  ): Promise<AppRecord | undefined> {
    const row = await markApplied(this.db, APPS, { tenant, name }, generation);
    return row ? toApp(row, this.specCache) : undefined;
  }

  async markAppFailed(
    tenant: string,
    name: string,
    error: string,
  ): Promise<AppRecord | undefined> {
    const [row] = await this.db(APPS)
      .where({ tenant, name })
      .update({ last_error: error.slice(0, MAX_ERROR_LENGTH) }, '*');
    return row ? toApp(row, this.specCache) : undefined;
  }

  async markSecretApplied(
    tenant: string,
    name: string,
    applied: boolean,
  ): Promise<void> {
    await this.db(APPS)
      .where({ tenant, name })
      .update({ secret_applied: applied });
  }

  async purgeApp(tenant: string, name: string): Promise<void> {
    await inTransaction(this.db, async tx => {
      const deleted = await tx(APPS)
        .where({ tenant, name, deleting: true })
        .delete();
      if (deleted) {
        await tx(SECRETS).where({ tenant, app: name }).delete();
        await this.revisions.purge(tx, tenant, name);
      }
    });
  }
}
