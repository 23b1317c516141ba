/**
 * What must hold once a run settles, read from the cluster (one LIST per
 * kind) and from the API (what the database says):
 *
 * - every acknowledged write is there: each live tenant's Tenant, namespace
 *   and phase Active; each live app's App with the acknowledged image,
 *   reconciled at its generation, and its Knative Service with that image;
 *   the database answers the same; what was deleted is gone from both;
 * - no orphans: no namespace, quota, limit range, network policy, role
 *   binding, Knative Service, DomainMapping or Paved Secret whose tenant or
 *   app is not live;
 * - no duplicates: one Knative Service per App, and no more Knative
 *   generations (each one a revision) than acknowledged changes;
 * - nothing stuck deleting (an object with a deletionTimestamp).
 */
import {
  APPS,
  DOMAIN_MAPPINGS,
  KNATIVE_SERVICES,
  KubeClient,
  KubeObject,
  LIMIT_RANGES,
  NAMESPACES,
  NETWORK_POLICIES,
  RESOURCE_QUOTAS,
  ROLE_BINDINGS,
  ResourceType,
  SECRETS,
  TENANTS,
} from '@paved/kube';
import {
  LABEL_APP,
  LABEL_MANAGED_BY,
  LABEL_TENANT,
  MANAGED_BY_PAVED,
} from '@paved/plugin-paved-common';
import { Api, Ledger } from './workload';

export const NAMESPACE_PREFIX = 'tenant-';

/** Children of a tenant (namespaced, labelled with their tenant). */
const TENANT_CHILDREN: ResourceType[] = [
  RESOURCE_QUOTAS,
  LIMIT_RANGES,
  NETWORK_POLICIES,
  ROLE_BINDINGS,
];
/** Children of an app (also labelled with their app). */
const APP_CHILDREN: ResourceType[] = [
  KNATIVE_SERVICES,
  DOMAIN_MAPPINGS,
  SECRETS,
];

export interface Findings {
  /** Acknowledged state not (yet) in the cluster or the database. */
  missing: string[];
  orphans: string[];
  duplicates: string[];
  /** Objects with a deletionTimestamp. */
  deleting: string[];
  /** Objects the ledger expects, and how many of them are as expected. */
  expected: number;
  present: number;
}

export const settled = (f: Findings) =>
  !f.missing.length &&
  !f.orphans.length &&
  !f.duplicates.length &&
  !f.deleting.length;

async function listAll(
  client: KubeClient,
  type: ResourceType,
  labelSelector?: string,
) {
  const items: KubeObject[] = [];
  let next: string | undefined;
  do {
    const page = await client.list(type, {
      labelSelector,
      limit: 500,
      continue: next,
    });
    // A list's items carry no kind; the findings name it.
    items.push(...page.items.map(o => ({ ...o, kind: type.kind })));
    next = page.metadata?.continue || undefined;
  } while (next);
  return items;
}

const id = (o: KubeObject) =>
  `${o.kind ?? ''} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${
    o.metadata.name
  }`;

export interface CheckOptions {
  /** Apps must also be Ready (on the real node with Knative). */
  ready?: boolean;
}

export async function check(
  client: KubeClient,
  api: Api,
  ledger: Ledger,
  options: CheckOptions = {},
): Promise<Findings> {
  const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY_PAVED}`;
  const [
    tenants,
    apps,
    namespaces,
    tenantChildren,
    appChildren,
    dbTenants,
    dbApps,
  ] = await Promise.all([
    listAll(client, TENANTS),
    listAll(client, APPS),
    listAll(client, NAMESPACES, LABEL_TENANT),
    Promise.all(TENANT_CHILDREN.map(t => listAll(client, t, managed))),
    Promise.all(
      APP_CHILDREN.map(t =>
        listAll(client, t, `${managed},${LABEL_APP}`).catch(() => []),
      ),
    ),
    api.read<{ items: any[] }>('/tenants'),
    api.read<{ items: any[] }>('/apps'),
  ]);
  const f: Findings = {
    missing: [],
    orphans: [],
    duplicates: [],
    deleting: [],
    expected: 0,
    present: 0,
  };
  const tenantCr = new Map(tenants.map(t => [t.metadata.name, t]));
  const appCr = new Map(
    apps.map(a => [`${a.metadata.namespace}/${a.metadata.name}`, a]),
  );
  const namespaceOf = new Map(namespaces.map(n => [n.metadata.name, n]));
  const dbTenant = new Map((dbTenants?.items ?? []).map(t => [t.name, t]));
  const dbApp = new Map(
    (dbApps?.items ?? []).map(a => [`${a.tenant}/${a.name}`, a]),
  );
  const ksvcs = appChildren[0];

  for (const o of [
    ...tenants,
    ...apps,
    ...namespaces,
    ...tenantChildren.flat(),
    ...appChildren.flat(),
  ]) {
    if (!o.metadata.deletionTimestamp) continue;
    // A namespace says what holds it (content left, a finalizer, discovery).
    const holding = ((o.status as any)?.conditions ?? [])
      .filter((cond: any) => cond.status === 'True')
      .map((cond: any) => `${cond.reason}: ${cond.message}`);
    f.deleting.push(
      holding.length ? `${id(o)} (${holding.join('; ')})` : id(o),
    );
  }

  for (const [name, want] of ledger.tenants) {
    const ns = `${NAMESPACE_PREFIX}${name}`;
    const cr = tenantCr.get(name);
    f.expected++;
    if (want.deleted) {
      const left = [
        cr && `Tenant ${name}`,
        namespaceOf.get(ns) && `namespace ${ns}`,
        dbTenant.get(name) && `tenant ${name} in the database`,
      ].filter(Boolean);
      if (left.length)
        f.missing.push(`deleted tenant still there: ${left.join(', ')}`);
      else f.present++;
      continue;
    }
    const problems: string[] = [];
    if (!cr) problems.push('no Tenant');
    else if ((cr.status as any)?.phase !== 'Active')
      problems.push(`Tenant phase ${(cr.status as any)?.phase}`);
    if (!namespaceOf.get(ns)) problems.push(`no namespace ${ns}`);
    if (!dbTenant.get(name)) problems.push('not in the database');
    if (problems.length)
      f.missing.push(`tenant ${name}: ${problems.join(', ')}`);
    else f.present++;

    for (const [app, appWant] of want.apps) {
      const key = `${ns}/${app}`;
      const appCrNow = appCr.get(key);
      const inDb = dbApp.get(`${name}/${app}`);
      f.expected++;
      if (appWant.deleted) {
        const left = [appCrNow && 'App', inDb && 'database row'].filter(
          Boolean,
        );
        if (left.length)
          f.missing.push(
            `deleted app ${name}/${app} still there: ${left.join(', ')}`,
          );
        else f.present++;
        continue;
      }
      const p: string[] = [];
      if (!appCrNow) p.push('no App');
      else {
        if ((appCrNow.spec as any)?.image !== appWant.image)
          p.push(
            `App image ${(appCrNow.spec as any)?.image}, acknowledged ${
              appWant.image
            }`,
          );
        const observed = (appCrNow.status as any)?.observedGeneration;
        if (observed !== appCrNow.metadata.generation)
          p.push(
            `App generation ${appCrNow.metadata.generation} reconciled at ${observed}`,
          );
        const phase = (appCrNow.status as any)?.phase;
        if (options.ready && phase !== 'Ready') {
          const message = (appCrNow.status as any)?.message;
          p.push(`App phase ${phase}${message ? ` (${message})` : ''}`);
        }
      }
      const own = ksvcs.filter(
        k =>
          k.metadata.namespace === ns && k.metadata.labels?.[LABEL_APP] === app,
      );
      if (own.length > 1)
        f.duplicates.push(`${own.length} Knative Services for ${key}`);
      const ksvc = own[0];
      if (!ksvc) p.push('no Knative Service');
      else {
        const ksvcImage = (ksvc.spec as any)?.template?.spec?.containers?.[0]
          ?.image;
        if (ksvcImage !== appWant.image)
          p.push(
            `Knative Service image ${ksvcImage}, acknowledged ${appWant.image}`,
          );
        const version = (
          (ksvc.spec as any)?.template?.spec?.containers?.[0]?.env ?? []
        ).find((e: any) => e.name === 'VERSION')?.value;
        if (version !== String(appWant.version))
          p.push(
            `Knative Service VERSION ${version}, acknowledged ${appWant.version}`,
          );
        const generation = ksvc.metadata.generation ?? 0;
        if (generation > appWant.specChanges) {
          f.duplicates.push(
            `Knative Service ${key} at generation ${generation} for ${appWant.specChanges} acknowledged changes`,
          );
        }
      }
      if (!inDb) p.push('not in the database');
      else if (inDb.image !== appWant.image)
        p.push(`database image ${inDb.image}, acknowledged ${appWant.image}`);
      if (p.length) f.missing.push(`app ${key}: ${p.join(', ')}`);
      else f.present++;
    }
  }

  // Orphans: children whose parent is not live (in the ledger or, for
  // objects of no run of ours, at all).
  const liveTenant = (name: string | undefined) =>
    !!name &&
    !!tenantCr.get(name) &&
    ledger.tenants.get(name)?.deleted !== true;
  const liveApp = (ns: string | undefined, app: string | undefined) =>
    !!ns && !!app && !!appCr.get(`${ns}/${app}`);
  for (const n of namespaces) {
    if (!liveTenant(n.metadata.labels?.[LABEL_TENANT])) f.orphans.push(id(n));
  }
  for (const o of tenantChildren.flat()) {
    if (!liveTenant(o.metadata.labels?.[LABEL_TENANT])) f.orphans.push(id(o));
  }
  for (const o of appChildren.flat()) {
    if (!liveApp(o.metadata.namespace, o.metadata.labels?.[LABEL_APP]))
      f.orphans.push(id(o));
  }
  for (const a of apps) {
    if (
      !liveTenant(
        a.metadata.labels?.[LABEL_TENANT] ??
          a.metadata.namespace?.slice(NAMESPACE_PREFIX.length),
      )
    )
      f.orphans.push(id(a));
  }
  return f;
}

/** Checks until settled or `timeoutMs`; the last findings and when they settled. */
export async function waitUntilSettled(
  client: KubeClient,
  api: Api,
  ledger: Ledger,
  options: CheckOptions & {
    timeoutMs: number;
    /** Every 2 s while not settled. */
    trace?: (elapsedMs: number, findings: Findings) => void;
  },
): Promise<{ findings: Findings; settledAt?: number }> {
  const { timeoutMs, trace } = options;
  const started = Date.now();
  const deadline = started + timeoutMs;
  let traced = started;
  for (;;) {
    let findings: Findings;
    try {
      findings = await check(client, api, ledger, options);
    } catch (error) {
      // The API server or every replica may be on its way back.
      findings = {
        missing: [`could not check: ${(error as Error).message}`],
        orphans: [],
        duplicates: [],
        deleting: [],
        expected: 0,
        present: 0,
      };
    }
    if (settled(findings)) return { findings, settledAt: Date.now() };
    if (trace && Date.now() - traced >= 2000) {
      traced = Date.now();
      trace(traced - started, findings);
    }
    if (Date.now() > deadline) return { findings };
    await new Promise(r => setTimeout(r, 500));
  }
}
