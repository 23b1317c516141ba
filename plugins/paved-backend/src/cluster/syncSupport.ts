import type { LoggerService } from '@backstage/backend-plugin-api';
import { KubeApiError, KubeClient } from '@paved/kube';
import type { Plan } from '@paved/plugin-paved-common';
import type {
  AppRecord,
  PavedStore,
  TenantRecord,
} from '../database/PavedStore';
import type { Change } from './StatusCache';

/** What {@link ClusterSync} and its parts are built with. */
export interface ClusterSyncOptions {
  store: PavedStore;
  /** Undefined when no cluster is configured: everything stays behind. */
  client?: KubeClient;
  plans: () => Plan[];
  namespacePrefix?: string;
  logger: LoggerService;
  /** Told after each sync of an app (its row's sync state may have changed). */
  onAppSynced?: (tenant: string, app: string) => void;
  /** Set by ClusterSync for its applier: a row could not be brought to the cluster (its retry). */
  onApplyFailed?: () => void;
}

/** Runs one task per key at a time; later callers queue behind. */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(task);
    this.tails.set(key, next);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === next) this.tails.delete(key);
    }
  }
}

/** The result of one attempt to bring a row to the cluster. */
export type SyncOutcome = 'applied' | 'deleted' | 'behind' | 'skipped';

export const NO_CLUSTER =
  'No cluster is configured (paved.kubernetes.kubeconfig, paved.kubernetes.inCluster or KUBECONFIG); saved, and applied once one is';

export interface Attempt<Row = { generation: number; deleting: boolean }> {
  outcome: SyncOutcome;
  /** The generation applied, when `applied`. */
  generation?: number;
  /**
   * The row as the attempt last saw it, when it knows it: after `applied`,
   * as the statement that recorded the apply left it (undefined: gone).
   */
  row?: Row;
}

/** What one run of `ClusterSync.syncAll` did. */
export interface SyncSummary {
  /** Rows behind (or deleting) that were applied (or deleted). */
  applied: number;
  /** Rows still behind after the run. */
  behind: number;
  /** Rows in step with the database whose CR was missing or changed, re-applied. */
  repaired: number;
  /** Of those, re-applies that failed (retried next run). */
  failed: number;
  /** CRs with Paved's labels the database does not know (left alone). */
  unknown: number;
}

/**
 * A tenant whose plan is no longer in `paved.plans`: the tenant keeps what
 * the cluster has, and the error says what to do.
 */
export class PlanNotOfferedError extends Error {
  constructor(tenant: TenantRecord, offered: string[]) {
    super(
      `Plan "${
        tenant.plan
      }" is no longer offered (paved.plans); move the tenant to one of ${offered.join(
        ', ',
      )}, or add the plan back to paved.plans. The cluster keeps the limits it was last given.`,
    );
    this.name = 'PlanNotOfferedError';
  }
}

/** How long watch events gather before the quick repair looks at them. */
export const REPAIR_DELAY_MS = 100;
/** How long tenant events gather before their tenants are synced. */
export const TENANT_SYNC_DELAY_MS = 500;
/**
 * Quick repairs of one object allowed per window: one that is changed again
 * each time it is put back (a mutating webhook or another controller owning
 * the same field) is left to the scheduled sync instead of a tight loop.
 */
export const QUICK_REPAIR_BURST = 5;
export const QUICK_REPAIR_WINDOW_MS = 60_000;
/** Re-applies in flight at once during a full reconciliation. */
export const REPAIR_CONCURRENCY = 8;

export type Listed = {
  metadata: any;
  spec?: any;
  data?: Record<string, string>;
};

/**
 * The message a failed apply leaves on its row (`last_error`, shown in the
 * API and the UI): the request, the HTTP status and the API server's own
 * words, e.g. `PATCH /apis/…/apps/web?fieldManager=paved-backend&force=true:
 * 404 namespaces "tenant-acme" not found`; without a status when the API
 * server did not answer.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof KubeApiError && error.details) {
    const { method, path, detail } = error.details;
    return `${method} ${path}: ${error.code ? `${error.code} ` : ''}${detail}`;
  }
  return error instanceof Error ? error.message : String(error);
}

export const EMPTY_SUMMARY: SyncSummary = {
  applied: 0,
  behind: 0,
  repaired: 0,
  failed: 0,
  unknown: 0,
};

/** The rows and live objects one drift comparison looks at. */
export interface DriftScope {
  tenantCrs: Map<string, Listed>;
  appCrs: Map<string, Listed>;
  secrets: Map<string, Listed>;
  tenants: TenantRecord[];
  apps: AppRecord[];
}

export function byKey(items: Listed[]) {
  return new Map(
    items.map(item => [
      `${item.metadata.namespace ?? ''}/${item.metadata.name}`,
      item,
    ]),
  );
}

export async function inParallel<T>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]);
    }),
  );
}

/** True when more than status changed: spec (metadata.generation), labels or annotations. */
export function ownedFieldsChanged(change: Change) {
  if (change.event !== 'modified') return true;
  const before = change.previous?.metadata;
  const after = change.resource.metadata;
  return (
    !before ||
    before.generation !== after.generation ||
    JSON.stringify(before.labels ?? {}) !==
      JSON.stringify(after.labels ?? {}) ||
    JSON.stringify(before.annotations ?? {}) !==
      JSON.stringify(after.annotations ?? {})
  );
}
