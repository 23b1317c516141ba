import { DEFAULT_NAMESPACE_PREFIX } from '@paved/plugin-paved-common';
import type { AppRecord, TenantRecord } from '../database/PavedStore';
import type { ClusterApplier } from './ClusterApplier';
import type { DriftReconciler } from './drift';
import { appResource, matchesDesired, tenantResource } from './resources';
import type { Change } from './StatusCache';
import {
  ClusterSyncOptions,
  QUICK_REPAIR_BURST,
  QUICK_REPAIR_WINDOW_MS,
  REPAIR_CONCURRENCY,
  REPAIR_DELAY_MS,
  TENANT_SYNC_DELAY_MS,
  inParallel,
  ownedFieldsChanged,
} from './syncSupport';

type AppKey = { tenant: string; name: string };

/**
 * Reacts to what the status cache reports: the quick repair of a Tenant or
 * App changed or deleted in the cluster, and the sync of tenants whose
 * phase changed (with their apps) or of the rows behind.
 */
export class ChangeHandler {
  private readonly queued = new Map<string, Change>();
  private timer?: NodeJS.Timeout;
  private repairing?: Promise<void>;
  private closed = false;
  /** When each object was last quick-repaired, to notice a fight. */
  private readonly quickRepairs = new Map<string, number[]>();
  private readonly fightsReported = new Set<string>();
  /** Tenants whose phase changed, to sync with their apps. */
  private readonly tenantsToSync = new Set<string>();
  /** A tenant event that asks only for the rows behind. */
  private behindWanted = false;
  private tenantTimer?: NodeJS.Timeout;
  private tenantSyncing?: Promise<void>;

  constructor(
    private readonly options: ClusterSyncOptions,
    private readonly applier: ClusterApplier,
    private readonly drift: DriftReconciler,
  ) {}

  /**
   * What the status cache reports, acted on:
   *
   * - the quick repair: a Tenant or App deleted, or changed in more than its
   *   status, is compared with its row shortly after and re-applied when it
   *   drifted. Events of a (re-)list are left to the scheduled full
   *   reconciliation.
   * - a tenant whose phase changed (it turned Active: its namespace exists
   *   now) is synced with its apps, {@link DriftReconciler.syncTenantAndApps}:
   *   after a rebuilt cluster its apps are missing, not behind, and nothing
   *   else would apply them before the next full run. Any other tenant event
   *   syncs the rows that are behind.
   */
  handleChange(change: Change): void {
    if (this.closed || !this.options.client) return;
    if (change.kind === 'tenant') this.noteTenantChange(change);
    if (change.event === 'listed' || !ownedFieldsChanged(change)) return;
    const key =
      change.kind === 'tenant'
        ? `tenant:${change.name}`
        : `app:${change.namespace}/${change.name}`;
    this.queued.set(key, change);
    this.scheduleRepair();
  }

  private noteTenantChange(change: Change & { kind: 'tenant' }) {
    if (
      change.event !== 'listed' &&
      change.resource.status?.phase !== change.previous?.status?.phase
    ) {
      this.tenantsToSync.add(change.name);
    } else {
      this.behindWanted = true;
    }
    this.scheduleTenantSync();
  }

  private scheduleTenantSync() {
    if (this.tenantTimer || this.tenantSyncing || this.closed) return;
    this.tenantTimer = setTimeout(() => {
      this.tenantTimer = undefined;
      const tenants = [...this.tenantsToSync];
      const behind = this.behindWanted;
      this.tenantsToSync.clear();
      this.behindWanted = false;
      const warn = (error: unknown) =>
        this.options.logger.warn(`Sync failed: ${error}`);
      this.tenantSyncing = (async () => {
        await inParallel(tenants, REPAIR_CONCURRENCY, name =>
          this.drift.syncTenantAndApps(name).then(() => undefined, warn),
        );
        // Those tenants' rows behind were just synced; any others are the
        // other events' (and the scheduled sync's) concern.
        if (behind) await this.applier.syncBehind().then(() => undefined, warn);
      })().finally(() => {
        this.tenantSyncing = undefined;
        if (this.tenantsToSync.size || this.behindWanted) {
          this.scheduleTenantSync();
        }
      });
    }, TENANT_SYNC_DELAY_MS);
    this.tenantTimer.unref?.();
  }

  /**
   * Stops the quick repair and the tenant syncs, and waits for what is in
   * flight of them.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.tenantTimer) clearTimeout(this.tenantTimer);
    this.tenantTimer = undefined;
    this.queued.clear();
    this.tenantsToSync.clear();
    await this.tenantSyncing;
    await this.repairing;
  }

  private scheduleRepair() {
    if (this.timer || this.repairing || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const changes = [...this.queued.values()];
      this.queued.clear();
      const warn = (error: unknown) =>
        this.options.logger.warn(`Drift repair failed: ${error}`);
      this.repairing = this.rowsOf(changes)
        .then(rows =>
          inParallel(
            changes.map((change, i) => ({ change, row: rows[i] })),
            REPAIR_CONCURRENCY,
            ({ change, row }) => this.repair(change, row).catch(warn),
          ),
        )
        .catch(warn)
        .finally(() => {
          this.repairing = undefined;
          if (this.queued.size) this.scheduleRepair();
        });
    }, REPAIR_DELAY_MS);
    this.timer.unref?.();
  }

  /** False (and a warning, once) when `key` was quick-repaired too often lately. */
  private mayQuickRepair(key: string, what: string) {
    const now = Date.now();
    const recent = (this.quickRepairs.get(key) ?? []).filter(
      at => now - at < QUICK_REPAIR_WINDOW_MS,
    );
    if (recent.length >= QUICK_REPAIR_BURST) {
      this.quickRepairs.set(key, recent);
      if (!this.fightsReported.has(key)) {
        this.fightsReported.add(key);
        this.options.logger.warn(
          `${what} was changed in the cluster again each time it was put back (${
            recent.length
          } times in ${
            QUICK_REPAIR_WINDOW_MS / 1000
          } s): is another controller or a mutating webhook changing the fields Paved sets? It is now re-applied by the scheduled sync only`,
        );
      }
      return false;
    }
    recent.push(now);
    this.quickRepairs.set(key, recent);
    if (recent.length === 1) this.fightsReported.delete(key);
    if (this.quickRepairs.size > 10_000) {
      for (const [k, times] of this.quickRepairs) {
        if (now - times[times.length - 1] >= QUICK_REPAIR_WINDOW_MS) {
          this.quickRepairs.delete(k);
        }
      }
    }
    return true;
  }

  /** The tenant or app in Paved's namespaces a change is about, undefined for others. */
  private appOf(change: Change): AppKey | undefined {
    const prefix = this.options.namespacePrefix ?? DEFAULT_NAMESPACE_PREFIX;
    if (change.kind === 'tenant' || !change.namespace.startsWith(prefix)) {
      return undefined;
    }
    return { tenant: change.namespace.slice(prefix.length), name: change.name };
  }

  /**
   * The rows a batch of changes is compared with, read in one query per
   * kind instead of one a change: each apply's own watch event lands here.
   * A row read at the start of the batch may be a little older than one
   * read at its repair; that only decides whether to re-apply, and the
   * re-apply reads the row again.
   */
  private async rowsOf(
    changes: Change[],
  ): Promise<Array<TenantRecord | AppRecord | undefined>> {
    const { store } = this.options;
    const tenantNames = changes
      .filter(c => c.kind === 'tenant')
      .map(c => c.name);
    const appKeys = changes.map(c => this.appOf(c));
    const [tenants, apps] = await Promise.all([
      tenantNames.length ? store.getTenants(tenantNames) : [],
      store.getApps(appKeys.filter(k => k !== undefined) as AppKey[]),
    ]);
    const byTenant = new Map(tenantNames.map((n, i) => [n, tenants[i]]));
    let nextApp = 0;
    return changes.map((change, i) => {
      if (change.kind === 'tenant') return byTenant.get(change.name);
      return appKeys[i] ? apps[nextApp++] : undefined;
    });
  }

  private async repair(
    change: Change,
    row: TenantRecord | AppRecord | undefined,
  ) {
    const { namespacePrefix } = this.options;
    const deleted = change.event === 'deleted';
    if (!deleted && change.resource.metadata.deletionTimestamp) return;
    if (change.kind === 'tenant') {
      const tenant = row as TenantRecord | undefined;
      if (!tenant) return;
      // A deleting row finishes its deletion; one behind is being applied.
      if (tenant.deleting || tenant.appliedGeneration < tenant.generation) {
        if (deleted) await this.applier.syncTenant(tenant.name);
        return;
      }
      if (!deleted) {
        let desired;
        try {
          desired = tenantResource(tenant, this.applier.limitsOf(tenant));
        } catch {
          return; // the full reconciliation records why
        }
        if (matchesDesired(change.resource, desired)) return;
      }
      if (
        !this.mayQuickRepair(`tenant:${tenant.name}`, `Tenant ${tenant.name}`)
      ) {
        return;
      }
      this.options.logger.info(
        `Tenant ${tenant.name} was ${
          deleted ? 'deleted' : 'changed'
        } in the cluster; re-applying it from the database`,
      );
      await this.applier.syncTenant(tenant.name, { force: true });
      return;
    }
    const app = row as AppRecord | undefined;
    if (!app) return;
    if (app.deleting || app.appliedGeneration < app.generation) {
      if (deleted) await this.applier.syncApp(app.tenant, app.name);
      return;
    }
    if (
      !deleted &&
      matchesDesired(change.resource, appResource(app, namespacePrefix))
    ) {
      return;
    }
    const ref = `${app.tenant}/${app.name}`;
    if (!this.mayQuickRepair(`app:${ref}`, `App ${ref}`)) return;
    this.options.logger.info(
      `App ${app.tenant}/${app.name} was ${
        deleted ? 'deleted' : 'changed'
      } in the cluster; re-applying it from the database`,
    );
    await this.applier.syncApp(app.tenant, app.name, { force: true });
  }
}
