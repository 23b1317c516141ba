import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import {
  AUDIT_PAGE_DEFAULT,
  AppEvent,
  AuditEntryView,
  DeletedTenantView,
  Page,
  PageOptions,
  tenantNamespace,
  tenantReadPermission,
} from '@paved/plugin-paved-common';
import { EVENTS, KubeObject } from '@paved/kube';
import type {
  AuditRecord,
  DeletedTenantRecord,
  TenantRecord,
} from '../database/PavedStore';
import { auditView } from '../service/views';
import { ServiceContext } from './context';
import { badCursor, decodeCursor, encodeCursor } from './cursors';

/** A Kubernetes Event (core/v1), the fields read here. */
interface KubeEvent extends KubeObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  series?: { count?: number; lastObservedTime?: string };
  involvedObject?: { kind?: string; name?: string };
  source?: { component?: string };
}

/** The operator's Events (an App's phase changes) are Paved's own. */
const OPERATOR_COMPONENT = 'paved-operator';

/**
 * What happened to tenants and apps: the audit log (paged by entry id),
 * deleted tenants' history (kept under the tenant's uid, so a new tenant
 * of the same name starts empty), and an app's events — its Kubernetes
 * objects' Events merged with Paved's audit entries, newest first, paged
 * by (time, key).
 */
export class HistoryService {
  constructor(private readonly ctx: ServiceContext) {}

  private get store() {
    return this.ctx.options.store;
  }
  private get access() {
    return this.ctx.options.access;
  }

  async tenantAudit(
    credentials: BackstageCredentials,
    tenant: string,
    page: PageOptions,
  ): Promise<Page<AuditEntryView>> {
    const record = await this.readable(credentials, tenant);
    return this.auditPage(record.uid, undefined, page);
  }

  async appAudit(
    credentials: BackstageCredentials,
    tenant: string,
    app: string,
    page: PageOptions,
  ): Promise<Page<AuditEntryView>> {
    const record = await this.readableApp(credentials, tenant, app);
    return this.auditPage(record.uid, app, page);
  }

  /** Deleted tenants the caller may read (their owners', the platform team's). */
  async deletedTenants(
    credentials: BackstageCredentials,
  ): Promise<DeletedTenantView[]> {
    const filter = await this.access.readFilter(credentials);
    const tenants = await this.store.listDeletedTenants({ filter });
    return tenants.map(deletedTenantView);
  }

  async deletedTenantAudit(
    credentials: BackstageCredentials,
    uid: string,
    page: PageOptions,
  ): Promise<Page<AuditEntryView>> {
    const deleted = await this.store.getDeletedTenant(uid);
    // Another team's deleted tenant answers as one that never was.
    if (
      !deleted ||
      !(await this.access.allowed(
        credentials,
        tenantReadPermission,
        asTenantRecord(deleted),
      ))
    ) {
      throw new NotFoundError(`No deleted tenant with uid ${uid}`);
    }
    return this.auditPage(uid, undefined, page);
  }

  /**
   * The app's events: Kubernetes Events of its objects (the App, the
   * Knative Service, Configuration, Route, its revisions, their
   * deployments and pods), Paved's own (the operator's Events on the App:
   * its phase changes) and the app's audit entries (what was done).
   */
  async appEvents(
    credentials: BackstageCredentials,
    tenant: string,
    app: string,
    page: PageOptions,
  ): Promise<Page<AppEvent>> {
    const record = await this.readableApp(credentials, tenant, app);
    const limit = page.limit ?? AUDIT_PAGE_DEFAULT;
    const before = page.cursor ? parseEventCursor(page.cursor) : undefined;
    const [kube, paved] = await Promise.all([
      this.kubernetesEvents(tenant, app),
      // Paved's entries older than the cursor: the page needs at most `limit`.
      this.pavedEvents(record, app, limit, before),
    ]);
    const all = [...kube, ...paved]
      .filter(e => !before || compareKeys(e, before) < 0)
      .sort((a, b) => -compareKeys(a, b));
    const items = all.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(e => e.event),
      ...(all.length > limit && last ? { nextCursor: eventCursor(last) } : {}),
    };
  }

  /** The tenant, when the caller may read it (404 as for a missing one otherwise). */
  private readable(credentials: BackstageCredentials, tenant: string) {
    return this.access.require(credentials, tenantReadPermission, tenant);
  }

  /** The app's tenant, when the caller may read it and the app exists. */
  private async readableApp(
    credentials: BackstageCredentials,
    tenant: string,
    app: string,
  ): Promise<TenantRecord> {
    const record = await this.readable(credentials, tenant);
    const found = await this.store.getApp(tenant, app);
    if (!found || found.deleting) {
      throw new NotFoundError(`App ${tenant}/${app} not found`);
    }
    return record;
  }

  private async auditPage(
    tenantUid: string,
    app: string | undefined,
    page: PageOptions,
  ): Promise<Page<AuditEntryView>> {
    const limit = page.limit ?? AUDIT_PAGE_DEFAULT;
    const beforeId = page.cursor ? parseIdCursor(page.cursor) : undefined;
    const entries = await this.store.listAudit({
      tenantUid,
      app,
      limit: limit + 1,
      beforeId,
    });
    const items = entries.slice(0, limit);
    return {
      items: items.map(auditView),
      ...(entries.length > limit
        ? { nextCursor: String(items[items.length - 1].id) }
        : {}),
    };
  }

  private async kubernetesEvents(
    tenant: string,
    app: string,
  ): Promise<KeyedEvent[]> {
    const kube = this.ctx.options.kube;
    if (!kube) return [];
    const namespace = tenantNamespace(tenant, this.ctx.options.namespacePrefix);
    const list = await kube.list<KubeEvent>(EVENTS, { namespace });
    return list.items
      .filter(e => belongsToApp(e.involvedObject ?? {}, app))
      .map(e => ({
        time: eventTime(e),
        key: `k-${e.metadata.uid ?? e.metadata.name}`,
        event: {
          time: eventTime(e),
          type: e.type === 'Warning' ? 'Warning' : 'Normal',
          reason: e.reason ?? '',
          message: e.message ?? '',
          source:
            e.source?.component === OPERATOR_COMPONENT ? 'paved' : 'kubernetes',
          object: {
            kind: e.involvedObject?.kind ?? '',
            name: e.involvedObject?.name ?? '',
          },
          count: Math.max(1, e.series?.count ?? e.count ?? 1),
        },
      }));
  }

  private async pavedEvents(
    tenant: TenantRecord,
    app: string,
    limit: number,
    before: EventKey | undefined,
  ): Promise<KeyedEvent[]> {
    // Audit ids grow with time; entries at the cursor's time or later are
    // filtered by the caller, so reading the newest `limit + 1` up to it
    // is enough.
    const entries: AuditRecord[] = [];
    let beforeId: number | undefined;
    for (;;) {
      const batch = await this.store.listAudit({
        tenantUid: tenant.uid,
        app,
        limit: limit + 1,
        beforeId,
      });
      const older = before
        ? batch.filter(e => compareKeys(auditKey(e), before) < 0)
        : batch;
      entries.push(...older);
      if (entries.length > limit || batch.length <= limit) break;
      beforeId = batch[batch.length - 1].id;
    }
    return entries.map(entry => ({
      ...auditKey(entry),
      event: {
        time: entry.at,
        type: 'Normal',
        reason: entry.action,
        message: describeAudit(entry),
        source: 'paved',
        object: { kind: 'App', name: app },
        count: 1,
        actor: entry.actor,
      },
    }));
  }
}

interface EventKey {
  time: string;
  key: string;
}
interface KeyedEvent extends EventKey {
  event: AppEvent;
}

function auditKey(entry: AuditRecord): EventKey {
  // Zero-padded, so keys of one time sort by id.
  return { time: entry.at, key: `p-${String(entry.id).padStart(15, '0')}` };
}

function compareKeys(a: EventKey, b: EventKey): number {
  const at = Date.parse(a.time);
  const bt = Date.parse(b.time);
  if (at !== bt) return at < bt ? -1 : 1;
  if (a.key === b.key) return 0;
  return a.key < b.key ? -1 : 1;
}

function eventCursor(key: EventKey): string {
  return encodeCursor([key.time, key.key]);
}

function parseEventCursor(cursor: string): EventKey {
  const [time, key] = decodeCursor(cursor, 2);
  if (Number.isNaN(Date.parse(time))) throw badCursor();
  return { time, key };
}

function parseIdCursor(cursor: string): number {
  if (!/^\d{1,15}$/.test(cursor)) {
    throw badCursor();
  }
  return Number(cursor);
}

function eventTime(e: KubeEvent): string {
  const at =
    e.series?.lastObservedTime ??
    e.lastTimestamp ??
    e.eventTime ??
    e.firstTimestamp ??
    e.metadata.creationTimestamp;
  return at ? new Date(at).toISOString() : new Date(0).toISOString();
}

/**
 * Whether an Event's object is one of the app's: the App, its Knative
 * Service, Configuration and Route (named as the app), and what Knative
 * names after a revision (`<app>-00001`): the Revision, its PodAutoscaler
 * and ServerlessService, Deployment (`-deployment`), ReplicaSet and Pods.
 * Exact shapes, so app `web` never takes the events of app `web-api`.
 */
export function belongsToApp(
  object: { kind?: string; name?: string },
  app: string,
): boolean {
  const name = object.name ?? '';
  if (name === app) {
    return ['App', 'Service', 'Configuration', 'Route'].includes(
      object.kind ?? '',
    );
  }
  if (!name.startsWith(`${app}-`)) return false;
  const rest = name.slice(app.length + 1);
  switch (object.kind) {
    case 'Revision':
    case 'PodAutoscaler':
    case 'ServerlessService':
      return /^\d{5}$/.test(rest);
    case 'Deployment':
      return /^\d{5}-deployment$/.test(rest);
    case 'ReplicaSet':
      return /^\d{5}-deployment-[a-z0-9]+$/.test(rest);
    case 'Pod':
      return /^\d{5}-deployment-[a-z0-9]+-[a-z0-9]+$/.test(rest);
    default:
      return false;
  }
}

/** An audit entry as an event's message: what was done, by whom, how. */
function describeAudit(entry: AuditRecord): string {
  const detail = entry.detail ?? {};
  const bits = Object.entries(detail)
    .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))
    .map(([k, v]) => `${k}=${v}`);
  return `${entry.action} by ${entry.actor} via ${entry.via}${
    bits.length ? ` (${bits.join(', ')})` : ''
  }`;
}

function deletedTenantView(record: DeletedTenantRecord): DeletedTenantView {
  return { ...record };
}

/** A deleted tenant as the permission rules see a tenant (its name and owner). */
function asTenantRecord(deleted: DeletedTenantRecord): TenantRecord {
  return {
    name: deleted.name,
    uid: deleted.uid,
    displayName: deleted.displayName,
    owner: deleted.owner,
    plan: '',
    networkIsolation: true,
    generation: 0,
    appliedGeneration: 0,
    deleting: true,
    createdBy: '',
    createdAt: deleted.createdAt,
    updatedAt: deleted.deletedAt,
  };
}
