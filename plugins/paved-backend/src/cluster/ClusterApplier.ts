import { APPS, KubeClient, SECRETS, TENANTS } from '@paved/kube';
import {
  FIELD_MANAGER_BACKEND,
  LABEL_APP,
  LABEL_TENANT,
  effectiveLimits,
  tenantNamespace,
  tlsSecretName,
} from '@paved/plugin-paved-common';
import type { AppRecord, TenantRecord } from '../database/PavedStore';
import {
  appResource,
  appSecretName,
  appSecretResource,
  LABEL_TLS,
  secretKeysOf,
  tenantResource,
  tlsSecretResource,
} from './resources';
import {
  Attempt,
  ClusterSyncOptions,
  KeyedLock,
  Listed,
  NO_CLUSTER,
  PlanNotOfferedError,
  SyncOutcome,
  describeFailure,
} from './syncSupport';

/**
 * Writes rows to the cluster: one tenant or app (and its Secret) at a time,
 * from the row as it is now in the database, and records on the row what
 * went wrong. Each row is synced by one task at a time (a keyed lock), so a
 * slow older apply cannot overwrite a newer one.
 */
export class ClusterApplier {
  private readonly lock = new KeyedLock();
  /** Last failure logged per row, so a failure that repeats is logged once. */
  private readonly reported = new Map<string, string>();
  /**
   * Apps (`tenant/app`) this process has seen to hold no TLS Secret: while
   * they have no certificate, their apply needs no LIST of Secrets. Lost at
   * a restart (then each app's first apply lists once); what another
   * replica did meanwhile is caught by {@link ClusterApplier.sweepTlsSecrets}.
   */
  private readonly withoutTls = new Set<string>();

  constructor(private readonly options: ClusterSyncOptions) {}

  /**
   * Brings one tenant to the cluster if it is behind; with `force`, applies
   * it even when it is not (drift repair: the CR was deleted or edited).
   */
  syncTenant(
    name: string,
    options?: { force?: boolean },
  ): Promise<SyncOutcome> {
    return this.lock
      .run(`tenant:${name}`, () =>
        this.untilSettled(force =>
          this.syncTenantNow(name, force || Boolean(options?.force)),
        ),
      )
      .then(attempt => attempt.outcome);
  }

  /** Like {@link ClusterApplier.syncTenant}, for an app (and its Secret). */
  syncApp(
    tenant: string,
    name: string,
    options?: { force?: boolean },
  ): Promise<SyncOutcome> {
    return this.syncAppWithRow(tenant, name, options).then(a => a.outcome);
  }

  /**
   * {@link ClusterApplier.syncApp}, answering also the app row as the sync
   * last saw it (read at its start, or as recording the apply or the
   * failure left it), when it knows it: a write's answer needs no read.
   */
  syncAppWithRow(
    tenant: string,
    name: string,
    options?: { force?: boolean },
  ): Promise<Attempt<AppRecord>> {
    return this.lock
      .run(`app:${tenant}/${name}`, () =>
        this.untilSettled(force =>
          this.syncAppNow(tenant, name, force || Boolean(options?.force)),
        ),
      )
      .finally(() => this.options.onAppSynced?.(tenant, name));
  }

  /**
   * Applies, then looks at the row as recording the apply left it (after
   * the apply, so no second read) and applies once more if another backend
   * replica saved a newer generation meanwhile: that replica's apply may
   * have landed before ours, which was older (and it already recorded its
   * generation as applied, hence `force`). Bounded; the sync job and the
   * next write take over after that.
   */
  private async untilSettled<
    Row extends { generation: number; deleting: boolean },
  >(apply: (force: boolean) => Promise<Attempt<Row>>): Promise<Attempt<Row>> {
    let attempt = await apply(false);
    for (let round = 0; round < 3 && attempt.outcome === 'applied'; round++) {
      const row = attempt.row;
      if (!row || row.deleting || row.generation <= attempt.generation!) break;
      attempt = await apply(true);
    }
    return attempt;
  }

  /** Re-applies every row that is behind: tenants first, then apps. */
  async syncBehind(): Promise<{ applied: number; behind: number }> {
    const behind = await this.options.store.listBehind();
    let applied = 0;
    let stillBehind = 0;
    const count = (outcome: SyncOutcome) => {
      if (outcome === 'applied' || outcome === 'deleted') applied++;
      if (outcome === 'behind') stillBehind++;
    };
    for (const tenant of behind.tenants.filter(t => !t.deleting)) {
      count(await this.syncTenant(tenant.name));
    }
    for (const app of behind.apps) {
      count(await this.syncApp(app.tenant, app.name));
    }
    for (const tenant of behind.tenants.filter(t => t.deleting)) {
      count(await this.syncTenant(tenant.name));
    }
    return { applied, behind: stillBehind };
  }

  private async syncTenantNow(
    name: string,
    force: boolean,
  ): Promise<Attempt<TenantRecord>> {
    const { store, client } = this.options;
    const tenant = await store.getTenant(name);
    if (!tenant) return { outcome: 'skipped' };
    if (!client) {
      await store.markTenantFailed(name, NO_CLUSTER);
      return { outcome: 'behind' };
    }
    try {
      if (tenant.deleting) {
        await client.delete(TENANTS, name);
        if (!(await client.tryGet(TENANTS, name))) {
          await store.purgeTenant(name);
          return { outcome: 'deleted' };
        }
        // The operator is still cleaning up (finalizer); check next time.
        await store.markTenantApplied(name, tenant.generation);
        return { outcome: 'behind' };
      }
      if (!force && tenant.appliedGeneration >= tenant.generation) {
        return { outcome: 'skipped' };
      }
      await client.apply(
        TENANTS,
        tenantResource(tenant, this.limitsOf(tenant)),
        {
          fieldManager: FIELD_MANAGER_BACKEND,
        },
      );
      const row = await store.markTenantApplied(name, tenant.generation);
      this.reported.delete(`tenant:${name}`);
      return { outcome: 'applied', generation: tenant.generation, row };
    } catch (error) {
      await this.recordFailure(
        `tenant:${name}`,
        `tenant ${name}`,
        error,
        message => store.markTenantFailed(name, message),
        tenant.lastError,
      );
      return { outcome: 'behind' };
    }
  }

  private async syncAppNow(
    tenant: string,
    name: string,
    force: boolean,
  ): Promise<Attempt<AppRecord>> {
    const { store, client, namespacePrefix } = this.options;
    const app = await store.getApp(tenant, name);
    if (!app) return { outcome: 'skipped' };
    if (!client) {
      const row = await store.markAppFailed(tenant, name, NO_CLUSTER);
      return { outcome: 'behind', row };
    }
    const namespace = tenantNamespace(tenant, namespacePrefix);
    try {
      if (app.deleting) {
        await client.delete(APPS, name, namespace);
        await client.delete(SECRETS, appSecretName(name), namespace);
        await store.purgeApp(tenant, name);
        await this.applyTlsSecrets(client, app, namespace);
        return { outcome: 'deleted' };
      }
      if (!force && app.appliedGeneration >= app.generation) {
        return { outcome: 'skipped', row: app };
      }
      await this.applySecret(client, app, namespace);
      await this.applyTlsSecrets(client, app, namespace);
      await client.apply(APPS, appResource(app, namespacePrefix), {
        fieldManager: FIELD_MANAGER_BACKEND,
      });
      const row = await store.markAppApplied(tenant, name, app.generation);
      this.reported.delete(`app:${tenant}/${name}`);
      return { outcome: 'applied', generation: app.generation, row };
    } catch (error) {
      await this.recordFailure(
        `app:${tenant}/${name}`,
        `app ${tenant}/${name}`,
        error,
        message => store.markAppFailed(tenant, name, message),
        app.lastError,
      );
      return { outcome: 'behind' };
    }
  }

  private async applySecret(
    client: KubeClient,
    app: AppRecord,
    namespace: string,
  ) {
    // No secret env and no Secret applied before: nothing to read or write.
    if (!app.secretApplied && secretKeysOf(app).length === 0) return;
    const secrets = await this.options.store.getSecrets(app.tenant, app.name);
    if (secrets.size === 0) {
      if (app.secretApplied) {
        await client.delete(SECRETS, appSecretName(app.name), namespace);
        await this.options.store.markSecretApplied(app.tenant, app.name, false);
      }
      return;
    }
    // Recorded before the apply: if the apply fails half-way, a later sync
    // still knows a Secret may exist.
    await this.options.store.markSecretApplied(app.tenant, app.name, true);
    await client.apply(
      SECRETS,
      appSecretResource(app, secrets, this.options.namespacePrefix),
      { fieldManager: FIELD_MANAGER_BACKEND },
    );
  }

  /**
   * The app's custom domains' certificates as kubernetes.io/tls Secrets
   * (applied before the App, so the mapping finds its Secret), and the TLS
   * Secrets labelled with this app whose domain the tenant no longer holds
   * deleted. A domain moved to another app of the tenant keeps its Secret:
   * that app's sync relabels it.
   */
  private async applyTlsSecrets(
    client: KubeClient,
    app: AppRecord,
    namespace: string,
  ) {
    const key = `${app.tenant}/${app.name}`;
    // Certificates are only ever for domains of the app's spec: with none
    // and no Secret seen, nothing to read either.
    if (!app.spec.domains?.length && this.withoutTls.has(key)) return;
    const certs = await this.options.store.domainCertificates(app.tenant);
    const mine = certs.filter(cert => cert.app === app.name);
    if (mine.length === 0 && this.withoutTls.has(key)) return;
    this.withoutTls.delete(key);
    for (const cert of mine) {
      await client.apply(
        SECRETS,
        tlsSecretResource(cert, this.options.namespacePrefix),
        { fieldManager: FIELD_MANAGER_BACKEND },
      );
    }
    const held = new Set(certs.map(c => tlsSecretName(c.domain)));
    const live = await client.list(SECRETS, {
      namespace,
      labelSelector: `${LABEL_APP}=${app.name},${LABEL_TLS}=true`,
    });
    let kept = 0;
    for (const secret of live.items) {
      if (!held.has(secret.metadata.name)) {
        await client.delete(SECRETS, secret.metadata.name, namespace);
      } else {
        kept++;
      }
    }
    if (mine.length === 0 && kept === 0) this.withoutTls.add(key);
  }

  /**
   * Deletes, of the Secrets a full sync listed, each TLS Secret whose
   * domain its tenant no longer holds: what an app's apply skips once this
   * process has seen the app hold none (another replica may have applied
   * one since). Returns how many went.
   */
  async sweepTlsSecrets(secrets: Iterable<Listed>): Promise<number> {
    const { client, store, namespacePrefix } = this.options;
    if (!client) return 0;
    const byTenant = new Map<string, Listed[]>();
    for (const secret of secrets) {
      const labels = secret.metadata.labels ?? {};
      const tenant = labels[LABEL_TENANT];
      if (labels[LABEL_TLS] !== 'true' || !tenant) continue;
      if (
        secret.metadata.namespace !== tenantNamespace(tenant, namespacePrefix)
      )
        continue;
      byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), secret]);
    }
    let deleted = 0;
    for (const [tenant, listed] of byTenant) {
      const held = new Set(
        (await store.domainCertificates(tenant)).map(c =>
          tlsSecretName(c.domain),
        ),
      );
      for (const secret of listed) {
        if (held.has(secret.metadata.name)) continue;
        await client.delete(
          SECRETS,
          secret.metadata.name,
          secret.metadata.namespace,
        );
        deleted++;
      }
    }
    return deleted;
  }

  /** The tenant's plan limits with its overrides; throws {@link PlanNotOfferedError}. */
  limitsOf(tenant: TenantRecord) {
    const plans = this.options.plans();
    const plan = plans.find(p => p.name === tenant.plan);
    if (!plan) {
      throw new PlanNotOfferedError(
        tenant,
        plans.map(p => p.name),
      );
    }
    return effectiveLimits(plan, tenant.limits);
  }

  /**
   * Logs a failure once per change of its message (a failure that repeats
   * every run is logged at debug level) and saves it as the row's
   * `last_error`, unless the row already says so.
   */
  async recordFailure(
    key: string,
    what: string,
    error: unknown,
    save: (message: string) => Promise<unknown>,
    saved?: string,
  ) {
    const message = describeFailure(error);
    this.options.onApplyFailed?.();
    const line = `Could not bring ${what} to the cluster; it is retried in a moment and by the sync job: ${message}`;
    if (this.reported.get(key) === message) {
      this.options.logger.debug(line);
    } else {
      this.reported.set(key, message);
      this.options.logger.warn(line);
    }
    if (saved === message) return;
    try {
      await save(message);
    } catch (saveError) {
      this.options.logger.error(`Could not record the failure: ${saveError}`);
    }
  }
}
