import {
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { Container, Link } from '@backstage/ui';
import {
  TenantView,
  AppView,
  apiErrorMessage,
  TENANTS_SIGNAL_CHANNEL,
  tenantSignalChannel,
} from '@paved/plugin-paved-common';
import Alert from '@material-ui/lab/Alert';
import { useParams } from 'react-router-dom';
import { usePagedPaved, usePolledPaved } from '../hooks';
import { AuditTable } from './AuditTable';
import { PhaseChip } from './PhaseChip';
import { UsageBar } from './UsageBar';

function TenantUsage({ tenant }: { tenant: TenantView }) {
  const usage = tenant.status.usage;
  return (
    <div style={{ display: 'flex', gap: 16 }}>
      <UsageBar
        label="CPU"
        kind="cpu"
        used={usage?.cpu?.used}
        hard={usage?.cpu?.hard ?? tenant.effectiveLimits.cpu}
      />
      <UsageBar
        label="Memory"
        kind="memory"
        used={usage?.memory?.used}
        hard={usage?.memory?.hard ?? tenant.effectiveLimits.memory}
      />
      <UsageBar
        label="Apps"
        kind="count"
        used={String(tenant.appCount)}
        hard={String(tenant.effectiveLimits.maxApps)}
      />
    </div>
  );
}

/**
 * Where the deleted tenants' history is, under the tenants page: `-` starts
 * no tenant name (a DNS label), so it never hides a tenant's own page.
 */
export const DELETED_TENANTS_PATH = '-/deleted';

/** Every tenant the user may see, with plan, apps and quota usage. */
export function TenantsPage() {
  const tenants = usePolledPaved(api => api.listTenants(), [], {
    channels: [TENANTS_SIGNAL_CHANNEL],
  });
  const columns: TableColumn<TenantView>[] = [
    {
      title: 'Tenant',
      render: t => <Link href={t.name}>{t.displayName}</Link>,
    },
    { title: 'Name', field: 'name' },
    { title: 'Owner', field: 'owner' },
    { title: 'Plan', field: 'plan' },
    {
      title: 'Phase',
      render: t => <PhaseChip phase={t.status.phase} known={t.status.known} />,
    },
    { title: 'Apps', field: 'appCount' },
    { title: 'Quota', render: t => <TenantUsage tenant={t} /> },
  ];
  return (
    <Container>
      {tenants.error && !tenants.value && (
        <ResponseErrorPanel
          title={apiErrorMessage(tenants.error)}
          error={tenants.error}
        />
      )}
      <Table<TenantView>
        title="Tenants"
        options={{ paging: false, search: true, padding: 'dense' }}
        isLoading={tenants.loading && !tenants.value}
        data={tenants.value?.items ?? []}
        columns={columns}
        emptyContent={
          <div style={{ padding: 16 }}>
            You have no tenants yet. Create one with the "Create a tenant"
            template.
          </div>
        }
      />
      <p>
        <Link href={DELETED_TENANTS_PATH}>History of deleted tenants</Link>
      </p>
    </Container>
  );
}

/** How many audit entries a page of a tenant's history holds. */
export const TENANT_AUDIT_PAGE_SIZE = 50;

/** One tenant with its apps and its history. */
export function TenantDetailPage(props: { auditPageSize?: number }) {
  const { auditPageSize = TENANT_AUDIT_PAGE_SIZE } = props;
  const { tenant: name = '' } = useParams();
  const tenant = usePolledPaved(api => api.getTenant(name), [name], {
    channels: [tenantSignalChannel(name)],
  });
  const apps = usePolledPaved(api => api.listApps(name), [name], {
    channels: [tenantSignalChannel(name)],
  });
  const audit = usePagedPaved(
    (api, cursor) =>
      api.listAudit(name, undefined, {
        limit: auditPageSize,
        cursor,
      }),
    [name, auditPageSize],
  );
  if (!tenant.value && tenant.loading) return <Progress />;
  if (!tenant.value)
    return (
      <ResponseErrorPanel
        title={
          tenant.error ? apiErrorMessage(tenant.error) : 'Tenant not found'
        }
        error={tenant.error ?? new Error('Tenant not found')}
      />
    );
  const t = tenant.value;
  const columns: TableColumn<AppView>[] = [
    { title: 'App', field: 'name' },
    {
      title: 'Phase',
      render: a => <PhaseChip phase={a.status.phase} known={a.status.known} />,
    },
    {
      title: 'URL',
      render: a =>
        a.status.url ? (
          <Link href={a.status.url} target="_blank" rel="noopener noreferrer">
            {a.status.url}
          </Link>
        ) : (
          '—'
        ),
    },
    { title: 'Image', field: 'image' },
    {
      title: 'Ready',
      render: a =>
        `${a.status.instances?.ready ?? 0}/${a.status.instances?.desired ?? 0}`,
    },
  ];
  return (
    <Container>
      {!t.status.known && (
        <Alert severity="info">
          Status unknown: the cluster has not reported on this tenant. Showing
          the saved configuration.
        </Alert>
      )}
      {t.sync.lastError && (
        <Alert severity={t.sync.pending ? 'info' : 'warning'}>
          {t.sync.pending
            ? 'The last change is saved and waiting for the cluster: '
            : 'The cluster could not be brought in line with this tenant: '}
          {t.sync.lastError}
        </Alert>
      )}
      <h2>
        {t.displayName}{' '}
        <PhaseChip phase={t.status.phase} known={t.status.known} />
      </h2>
      <p>
        Owner {t.owner} · plan {t.plan} · namespace {t.namespace}
      </p>
      <TenantUsage tenant={t} />
      <Table<AppView>
        title="Apps"
        options={{ paging: false, search: false, padding: 'dense' }}
        isLoading={apps.loading && !apps.value}
        data={apps.value?.items ?? []}
        columns={columns}
        emptyContent={
          <div style={{ padding: 16 }}>
            No apps yet. Deploy one with the "Deploy a container image"
            template.
          </div>
        }
      />
      <div style={{ marginTop: 24 }}>
        <AuditTable title="History" list={audit} showApp />
      </div>
    </Container>
  );
}
