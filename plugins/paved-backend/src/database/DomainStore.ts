import { ConflictError, ServiceUnavailableError } from '@backstage/errors';
import { AppSpec, DomainTls, tlsSecretName } from '@paved/plugin-paved-common';
import type { Knex } from 'knex';
import type { AuditStore } from './AuditStore';
import type { Actor } from './PavedStore';
import type { RevisionStore } from './RevisionStore';
import { APPS, locked, toApp } from './rows';
import type { SecretBox } from './SecretBox';

export const DOMAINS = 'paved_domains';

/** A certificate the owner brought for a domain (checked by the service). */
export interface DomainCertificate {
  /** PEM chain, leaf first. */
  certificate: string;
  /** PEM private key (stored encrypted). */
  privateKey: string;
  /** The leaf's expiry, ISO-8601. */
  notAfter: string;
}

/** A stored certificate of a domain, decrypted, for the TLS Secret. */
export interface StoredDomainCertificate extends DomainCertificate {
  domain: string;
  tenant: string;
  app: string;
}

/** What a claim did: the spec as it is to be saved, and the other apps it changed. */
export interface DomainClaim {
  spec: AppSpec;
  /** Apps of the same tenant that lost a domain to this one (moved). */
  moved: string[];
}

/**
 * Custom domains, claimed per tenant: the row keyed by the domain is the
 * claim, so no two tenants hold one domain, and two parallel claims cannot
 * both insert it (the loser's transaction fails with a unique violation; the
 * app write retries and then sees the winner's row: 409). Within a tenant a
 * domain is on one app; claiming it for another app of the tenant moves it,
 * certificate included, and takes it out of the other app's spec in the
 * same transaction.
 */
export class DomainStore {
  constructor(
    private readonly db: Knex,
    private readonly revisions: RevisionStore,
    private readonly audit: AuditStore,
    private readonly secretBox?: SecretBox,
  ) {}

  /**
   * In an app write's transaction: checks that no other tenant holds a
   * domain of `spec.domains` (409), and answers the spec with `tls` set from
   * the certificates (`certificates`: a domain's new certificate, or null to
   * remove it; the others keep theirs), the other apps of the tenant it
   * takes domains from, and `save`, which writes the claim once the app's
   * row is written: new domains inserted (a parallel claim of one of them
   * fails on the key), moved ones taken from their app, the app's domains
   * not in the spec released (with their certificates).
   */
  async claim(
    tx: Knex.Transaction,
    write: {
      tenant: string;
      name: string;
      actor: Actor;
      now: string;
      certificates?: Map<string, DomainCertificate | null>;
      /** The domains of the app's row as it is (none for a new app). */
      previous: string[];
    },
    spec: AppSpec,
  ): Promise<DomainClaim & { save: () => Promise<void> }> {
    const { tenant, name } = write;
    const wanted = spec.domains;
    const sending = [...(write.certificates?.values() ?? [])].some(Boolean);
    if (sending && !this.secretBox) {
      throw new ServiceUnavailableError(
        'A private key cannot be stored: the platform team has set no encryption key in app-config (paved.secrets.keys or paved.secrets.encryptionKey)',
      );
    }
    const held: any[] = wanted.length
      ? await locked(tx, tx(DOMAINS).whereIn('domain', wanted))
      : [];
    const byDomain = new Map<string, any>(held.map(r => [r.domain, r]));
    const taken = held.filter(r => r.tenant !== tenant).map(r => r.domain);
    if (taken.length) {
      const one = taken.length === 1;
      throw new ConflictError(
        `Domain ${taken.join(', ')} ${
          one ? 'is' : 'are'
        } in use by another tenant; choose another domain, or ask the tenant that has ${
          one ? 'it' : 'them'
        } to remove ${
          one ? 'it' : 'them'
        } from its app (the platform team can see which tenant)`,
      );
    }
    const movedFrom = new Map<string, string[]>();
    for (const row of held) {
      if (row.app !== name) {
        movedFrom.set(row.app, [...(movedFrom.get(row.app) ?? []), row.domain]);
      }
    }
    const tls: DomainTls[] = [];
    for (const domain of wanted) {
      const sent = write.certificates?.get(domain);
      const notAfter =
        sent === undefined
          ? byDomain.get(domain)?.certificate && byDomain.get(domain).not_after
          : sent?.notAfter;
      if (sent === null) continue;
      if (sent || byDomain.get(domain)?.certificate) {
        tls.push({
          domain,
          secretName: tlsSecretName(domain),
          ...(notAfter ? { notAfter } : {}),
        });
      }
    }
    const { tls: _old, ...rest } = spec;
    const save = async () => {
      // The row's spec and its domains' rows are written together, so the
      // spec says which rows are the app's: an app without domains costs
      // no statement here.
      const gone = write.previous.filter(d => !wanted.includes(d));
      if (gone.length) {
        await tx(DOMAINS)
          .where({ tenant, app: name })
          .whereIn('domain', gone)
          .delete();
      }
      for (const [other, domains] of movedFrom) {
        await this.takeFrom(tx, write, other, domains);
      }
      const fresh = wanted.filter(d => !byDomain.has(d));
      if (fresh.length) {
        await tx(DOMAINS).insert(
          fresh.map(domain => ({
            domain,
            tenant,
            app: name,
            certificate: null,
            private_key: null,
            not_after: null,
            created_at: write.now,
            updated_at: write.now,
          })),
        );
      }
      for (const [domain, cert] of write.certificates ?? []) {
        if (!wanted.includes(domain)) continue;
        await tx(DOMAINS)
          .where({ domain, tenant })
          .update({
            certificate: cert?.certificate ?? null,
            private_key: cert ? this.secretBox!.encrypt(cert.privateKey) : null,
            not_after: cert?.notAfter ?? null,
            updated_at: write.now,
          });
      }
    };
    return {
      spec: tls.length ? { ...rest, tls } : (rest as AppSpec),
      moved: [...movedFrom.keys()],
      save,
    };
  }

  /**
   * Takes `domains` out of another app of the tenant (its spec, a new
   * generation, a revision and an audit entry), and gives their rows to the
   * claiming app. An app being deleted keeps its spec; its rows move all the same.
   */
  private async takeFrom(
    tx: Knex.Transaction,
    write: { tenant: string; name: string; actor: Actor; now: string },
    other: string,
    domains: string[],
  ) {
    const { tenant, actor, now } = write;
    const row = await locked(
      tx,
      tx(APPS).where({ tenant, name: other }),
    ).first();
    await tx(DOMAINS)
      .where({ tenant })
      .whereIn('domain', domains)
      .update({ app: write.name, updated_at: now });
    if (!row || row.deleting) return;
    const before = toApp(row).spec;
    const spec: AppSpec = {
      ...before,
      domains: before.domains.filter(d => !domains.includes(d)),
    };
    const tls = (before.tls ?? []).filter(t => !domains.includes(t.domain));
    if (tls.length) spec.tls = tls;
    else delete spec.tls;
    const revision = Number(row.revision) + 1;
    await tx(APPS)
      .where({ tenant, name: other })
      .update({
        spec: JSON.stringify(spec),
        revision,
        generation: Number(row.generation) + 1,
        updated_by: actor.ref,
        updated_at: now,
      });
    await this.revisions.record(tx, {
      tenant,
      app: other,
      revision,
      action: 'domains',
      spec,
      actor,
      at: now,
    });
    await this.audit.record(tx, actor, 'app.domains', tenant, other, {
      revision,
      removed: domains,
      movedTo: write.name,
    });
  }

  /** The stored certificates of a tenant's domains, decrypted (for the TLS Secrets). */
  async certificates(tenant: string): Promise<StoredDomainCertificate[]> {
    const rows: any[] = await this.db(DOMAINS)
      .where({ tenant })
      .whereNotNull('certificate')
      .orderBy('domain');
    if (rows.length && !this.secretBox) {
      throw new ServiceUnavailableError(
        'TLS private keys cannot be read: no encryption key is set (paved.secrets.keys or paved.secrets.encryptionKey)',
      );
    }
    return rows.map(row => ({
      domain: row.domain,
      tenant: row.tenant,
      app: row.app,
      certificate: row.certificate,
      privateKey: this.secretBox!.decrypt(row.private_key),
      notAfter: row.not_after,
    }));
  }
}
