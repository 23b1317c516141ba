import { APPS, ResourceType, SECRETS, TENANTS } from '@paved/kube';
import { tenantNamespace } from '@paved/plugin-paved-common';
import type { AppRecord, TenantRecord } from '../database/PavedStore';
import type { ClusterApplier } from './ClusterApplier';
import {
  PAVED_SELECTOR,
  appResource,
  appSecretName,
  isPavedObject,
  matchesDesired,
  secretKeysOf,
  tenantResource,
} from './resources';
import {
  ClusterSyncOptions,
  DriftScope,
  EMPTY_SUMMARY,
  Listed,
  REPAIR_CONCURRENCY,
  SyncOutcome,
  SyncSummary,
  byKey,
  inParallel,
} from './syncSupport';

/**
 * The full reconciliation and drift repair: compares the database with what
 * the cluster has (for everything, or for one tenant) and re-applies,
 * through the {@link ClusterApplier}, each row whose CR or Secret is missing
 * or changed.
 */
export class DriftReconciler {
  /** CRs with Paved's labels unknown to the database, logged once each. */
  private readonly unknownReported = new Set<string>();
  private running?: Promise<SyncSummary>;
  private rerun?: Promise<SyncSummary>;

  constructor(
    private readonly options: ClusterSyncOptions,
    private readonly applier: ClusterApplier,
  ) {}

  /**
   * The scheduled full reconciliation: re-applies every row that is behind
   * ({@link ClusterApplier.syncBehind}), then compares every live row with the
   * cluster (one LIST each of Tenants, Apps and Paved's Secrets) and
   * re-applies, with force, each row whose CR is missing or differs from
   * what the backend would apply (the plan's current limits included), or
   * whose Secret is missing or lacks a key. One run at a time; calls during
   * a run share the one run after it.
   */
  syncAll(): Promise<SyncSummary> {
    if (this.running) {
      // What changed since the running one listed is seen by the next run,
      // which every call made meanwhile shares.
      this.rerun ??= this.running
        .catch(() => undefined)
        .then(() => {
          this.rerun = undefined;
          return this.syncAll();
        });
      return this.rerun;
    }
    this.running = this.reconcile().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async reconcile(): Promise<SyncSummary> {
    const { store, client, namespacePrefix } = this.options;
    const { applied, behind } = await this.applier.syncBehind();
    const summary: SyncSummary = { ...EMPTY_SUMMARY, applied, behind };
    if (!client) return summary;
    const list = async (type: ResourceType, labelSelector?: string) =>
      byKey(
        (await client.list<Listed & { metadata: any }>(type, { labelSelector }))
          .items,
      );
    // The cluster first, then the database: a row saved meanwhile is
    // compared with an older CR and re-applied once more, which is harmless.
    const [tenantCrs, appCrs, secrets] = await Promise.all([
      list(TENANTS),
      list(APPS),
      list(SECRETS, PAVED_SELECTOR),
    ]);
    const [tenants, apps, pending] = await Promise.all([
      store.listTenants(),
      store.listApps(),
      store.listBehind(),
    ]);
    await this.repairDrift(
      { tenantCrs, appCrs, secrets, tenants, apps },
      summary,
    );
    summary.unknown = this.noteUnknown(
      tenantCrs,
      appCrs,
      new Set([
        ...tenants.map(t => t.name),
        ...pending.tenants.map(t => t.name),
      ]),
      new Set(
        [...apps, ...pending.apps].map(
          a => `${tenantNamespace(a.tenant, namespacePrefix)}/${a.name}`,
        ),
      ),
    );
    return summary;
  }

  /**
   * {@link DriftReconciler.syncAll} for one tenant: its rows that are behind,
   * then its Tenant CR, its Apps and their Secrets compared with the
   * database and re-applied where missing or changed. Reads only that
   * tenant's objects (a GET of the Tenant, a LIST of Apps and of Paved's
   * Secrets in its namespace), so a tenant's event costs what the tenant
   * has, not what the cluster has.
   */
  async syncTenantAndApps(name: string): Promise<SyncSummary> {
    const { store, client, namespacePrefix } = this.options;
    const summary: SyncSummary = { ...EMPTY_SUMMARY };
    const count = (outcome: SyncOutcome) => {
      if (outcome === 'applied' || outcome === 'deleted') summary.applied++;
      if (outcome === 'behind') summary.behind++;
    };
    const pending = await store.listBehind();
    const tenantRow = pending.tenants.find(t => t.name === name);
    if (tenantRow && !tenantRow.deleting)
      count(await this.applier.syncTenant(name));
    for (const app of pending.apps.filter(a => a.tenant === name)) {
      count(await this.applier.syncApp(app.tenant, app.name));
    }
    if (tenantRow?.deleting) {
      count(await this.applier.syncTenant(name));
      return summary;
    }
    if (!client) return summary;
    const namespace = tenantNamespace(name, namespacePrefix);
    const [tenantCr, appList, secretList] = await Promise.all([
      client.tryGet<Listed & { metadata: any }>(TENANTS, name),
      client.list<Listed & { metadata: any }>(APPS, { namespace }),
      client.list<Listed & { metadata: any }>(SECRETS, {
        namespace,
        labelSelector: PAVED_SELECTOR,
      }),
    ]);
    const [tenant, apps] = await Promise.all([
      store.getTenant(name),
      store.listApps({ tenant: name }),
    ]);
    if (!tenant) return summary;
    await this.repairDrift(
      {
        tenantCrs: byKey(tenantCr ? [tenantCr] : []),
        appCrs: byKey(appList.items),
        secrets: byKey(secretList.items),
        tenants: tenant.deleting ? [] : [tenant],
        apps,
      },
      summary,
    );
    return summary;
  }

  /**
   * Re-applies, with force, each row in step with the database whose CR is
   * missing or differs from what the backend would apply (the plan's
   * current limits included), or whose Secret is missing or lacks a key.
   */
  private async repairDrift(scope: DriftScope, summary: SyncSummary) {
    const { store, namespacePrefix } = this.options;
    const { tenantCrs, appCrs, secrets, tenants, apps } = scope;
    const inStep = (row: { generation: number; appliedGeneration: number }) =>
      row.appliedGeneration >= row.generation;

    const tenantRepairs: TenantRecord[] = [];
    const recreatedTenants = new Set<string>();
    for (const tenant of tenants) {
      if (!inStep(tenant)) continue; // syncBehind's, and the writes', job
      const live = tenantCrs.get(`/${tenant.name}`);
      if (live?.metadata.deletionTimestamp) continue; // re-created once gone
      let desired;
      try {
        desired = tenantResource(tenant, this.applier.limitsOf(tenant));
      } catch (error) {
        await this.applier.recordFailure(
          `tenant:${tenant.name}`,
          `tenant ${tenant.name}`,
          error,
          message => store.markTenantFailed(tenant.name, message),
          tenant.lastError,
        );
        continue;
      }
      if (!live) recreatedTenants.add(tenant.name);
      if (!live || !matchesDesired(live, desired) || tenant.lastError) {
        tenantRepairs.push(tenant);
      }
    }

    const appRepairs: AppRecord[] = [];
    for (const app of apps) {
      if (!inStep(app)) continue;
      // Its namespace comes from the operator once the Tenant is back; the
      // tenant's phase change (or the next run) applies the app.
      if (recreatedTenants.has(app.tenant)) continue;
      const namespace = tenantNamespace(app.tenant, namespacePrefix);
      const live = appCrs.get(`${namespace}/${app.name}`);
      if (live?.metadata.deletionTimestamp) continue;
      const keys = secretKeysOf(app);
      const secret = secrets.get(`${namespace}/${appSecretName(app.name)}`);
      const secretDrift =
        (keys.length > 0 &&
          (!secret || keys.some(key => secret.data?.[key] === undefined))) ||
        // A custom domain's TLS Secret that is gone.
        (app.spec.tls ?? []).some(
          t => !secrets.has(`${namespace}/${t.secretName}`),
        );
      if (
        !live ||
        !matchesDesired(live, appResource(app, namespacePrefix)) ||
        secretDrift ||
        app.lastError
      ) {
        appRepairs.push(app);
      }
    }

    const count = (outcome: SyncOutcome) => {
      if (outcome === 'applied') summary.repaired++;
      else if (outcome === 'behind') summary.failed++;
    };
    await inParallel(tenantRepairs, REPAIR_CONCURRENCY, async tenant => {
      this.options.logger.debug(
        `Drift: re-applying Tenant ${tenant.name} from the database`,
      );
      count(await this.applier.syncTenant(tenant.name, { force: true }));
    });
    await inParallel(appRepairs, REPAIR_CONCURRENCY, async app => {
      this.options.logger.debug(
        `Drift: re-applying App ${app.tenant}/${app.name} from the database`,
      );
      count(await this.applier.syncApp(app.tenant, app.name, { force: true }));
    });
    const swept = await this.applier.sweepTlsSecrets(secrets.values());
    if (swept) {
      this.options.logger.info(
        `Drift repair: deleted ${swept} TLS Secrets of domains their tenants no longer hold`,
      );
    }
    if (tenantRepairs.length || appRepairs.length) {
      this.options.logger.info(
        `Drift repair: ${tenantRepairs.length} Tenants and ${appRepairs.length} Apps were missing or changed in the cluster; ${summary.repaired} re-applied, ${summary.failed} failed (retried next run)`,
      );
    }
  }

  /**
   * CRs with Paved's labels that the database does not know (created by
   * hand, or left by another backend's database) are left alone: deleting a
   * Tenant deletes its namespace and workloads, and a database restored from
   * an older backup must not take running tenants with it. Logged once each.
   */
  private noteUnknown(
    tenantCrs: Map<string, Listed>,
    appCrs: Map<string, Listed>,
    tenants: Set<string>,
    apps: Set<string>,
  ): number {
    const unknown = new Set<string>();
    for (const [key, cr] of tenantCrs) {
      if (isPavedObject(cr) && !cr.metadata.deletionTimestamp) {
        if (!tenants.has(cr.metadata.name))
          unknown.add(`Tenant ${key.slice(1)}`);
      }
    }
    for (const [key, cr] of appCrs) {
      if (isPavedObject(cr) && !cr.metadata.deletionTimestamp) {
        if (!apps.has(key)) unknown.add(`App ${key}`);
      }
    }
    for (const what of unknown) {
      if (this.unknownReported.has(what)) continue;
      this.unknownReported.add(what);
      this.options.logger.warn(
        `${what} carries Paved's labels but is not in Paved's database; left alone (delete it by hand if nobody needs it)`,
      );
    }
    for (const what of this.unknownReported) {
      if (!unknown.has(what)) this.unknownReported.delete(what);
    }
    return unknown.size;
  }

  /** Waits for the run in flight and the one queued after it, if any. */
  async settle(): Promise<void> {
    await this.running?.catch(() => undefined);
    await this.rerun?.catch(() => undefined);
  }
}
