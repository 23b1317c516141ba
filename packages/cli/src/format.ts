/**
 * Human output: tables with aligned columns, and the text of an app, a
 * tenant and a revision. `--json` prints the API objects instead.
 */
import {
  AppView,
  RevisionView,
  TenantView,
  describeAppStatus,
} from '@paved/plugin-paved-common';

/** Columns padded to their widest cell; `-` for an empty one. */
export function table(header: string[], rows: string[][]): string {
  const cells = [header, ...rows.map(r => r.map(c => c || '-'))];
  const widths = header.map((_, i) =>
    Math.max(...cells.map(r => (r[i] ?? '').length)),
  );
  return `${cells
    .map(r =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** Seconds with one decimal: `12.3 s`. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function appsTable(apps: AppView[]): string {
  if (!apps.length) return 'No apps.\n';
  return table(
    ['APP', 'PHASE', 'REVISION', 'URL', 'IMAGE'],
    apps.map(a => [
      a.ref,
      describeAppStatus(a).phase,
      String(a.revision),
      a.status.url ?? '',
      a.image,
    ]),
  );
}

export function tenantsTable(tenants: TenantView[]): string {
  if (!tenants.length) return 'No tenants.\n';
  return table(
    ['TENANT', 'DISPLAY NAME', 'OWNER', 'PLAN', 'APPS', 'PHASE'],
    tenants.map(t => [
      t.name,
      t.displayName ?? '',
      t.owner,
      t.plan,
      String(t.appCount),
      t.status.known ? t.status.phase ?? 'Pending' : 'Unknown',
    ]),
  );
}

export function envText(app: AppView): string {
  if (!app.env.length) return `${app.ref} has no env vars.\n`;
  return table(
    ['NAME', 'VALUE', 'SECRET'],
    app.env.map(e => [e.name, e.value, e.secret ? 'yes' : 'no']),
  );
}

export function revisionsTable(revisions: RevisionView[], current: number) {
  return table(
    ['REVISION', 'ACTION', 'IMAGE', 'BY', 'AT'],
    revisions.map(r => [
      `${r.revision}${r.revision === current ? '*' : ''}`,
      r.action,
      r.image,
      r.actor,
      r.createdAt,
    ]),
  );
}

/** The text of `paved status`. */
export function appText(app: AppView, url: string | undefined): string {
  const described = describeAppStatus(app);
  const { scaling, resources, status } = app;
  const rows: Array<[string, string | undefined]> = [
    ['Phase', described.phase],
    ['URL', url],
    ['Image', app.image],
    ['Port', String(app.port)],
    [
      'Revision',
      `${app.revision} (by ${app.updatedBy}, ${app.updatedAt})${
        status.latestReadyRevision
          ? `, serving ${status.latestReadyRevision}`
          : ''
      }`,
    ],
    [
      'Instances',
      status.instances
        ? `${status.instances.ready ?? 0} ready (the autoscaler wants ${
            status.instances.desired ?? 0
          })`
        : undefined,
    ],
    [
      'Scaling',
      `${scaling.minInstances ?? 0} to ${scaling.maxInstances ?? '?'}${
        scaling.targetConcurrency
          ? `, ${scaling.targetConcurrency} requests each`
          : ''
      }`,
    ],
    [
      'Resources',
      [
        resources.cpu && `cpu ${resources.cpu}`,
        resources.memory && `memory ${resources.memory}`,
      ]
        .filter(Boolean)
        .join(', ') || undefined,
    ],
    [
      'Env',
      app.env
        .map(e => `${e.name}=${e.value}${e.secret ? ' (secret)' : ''}`)
        .join(', ') || undefined,
    ],
    [
      'Domains',
      (app.domainStatus ?? [])
        .map(
          d =>
            `${d.url} (${d.claim}, ${
              d.ready ? 'routed' : 'not routed yet'
            }, TLS ${d.tls.state})`,
        )
        .join(', ') ||
        app.domains.join(', ') ||
        undefined,
    ],
    ['Paused', app.paused ? 'yes (`paved resume` starts it)' : undefined],
    ['Message', described.message],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  return `${app.ref}\n${rows
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `  ${`${k}:`.padEnd(width)} ${v}`)
    .join('\n')}\n`;
}
