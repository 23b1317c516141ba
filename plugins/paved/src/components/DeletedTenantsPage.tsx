import {
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { Container, Link } from '@backstage/ui';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/frontend-plugin-api';
import { useParams } from 'react-router-dom';
import { apiErrorMessage, DeletedTenantView } from '@paved/plugin-paved-common';
import { pavedApiRef } from '../api';
import { usePagedPaved } from '../hooks';
import { AuditTable } from './AuditTable';

/** How many audit entries a page of a deleted tenant's history holds. */
export const DELETED_AUDIT_PAGE_SIZE = 50;

const when = (iso: string) => new Date(iso).toLocaleString();

/**
 * The tenants that were deleted and whose history the user may read (their
 * groups owned them; the platform team reads all). A new tenant of the same
 * name starts afresh, so each is told apart by its uid.
 */
export function DeletedTenantsPage() {
  const api = useApi(pavedApiRef);
  const deleted = useAsync(() => api.listDeletedTenants(), [api]);
  const columns: TableColumn<DeletedTenantView>[] = [
    {
      title: 'Tenant',
      render: t => (
        <Link href={encodeURIComponent(t.uid)}>{t.displayName}</Link>
      ),
    },
    { title: 'Name', field: 'name' },
    { title: 'Owner', field: 'owner' },
    { title: 'Created', render: t => when(t.createdAt) },
    { title: 'Deleted', render: t => when(t.deletedAt) },
  ];
  return (
    <Container>
      <p>
        {/* Links resolve by route: ".." is the tenants page. */}
        <Link href="..">Back to the tenants</Link>
      </p>
      {deleted.error && (
        <ResponseErrorPanel
          title={apiErrorMessage(deleted.error)}
          error={deleted.error}
        />
      )}
      <Table<DeletedTenantView>
        title="Deleted tenants"
        options={{ paging: false, search: true, padding: 'dense' }}
        isLoading={deleted.loading}
        data={[...(deleted.value?.items ?? [])].sort((a, b) =>
          b.deletedAt.localeCompare(a.deletedAt),
        )}
        columns={columns}
        emptyContent={
          <div style={{ padding: 16 }}>
            No deleted tenants whose history you may read.
          </div>
        }
      />
    </Container>
  );
}

/** The history of one deleted tenant, by its uid. */
export function DeletedTenantPage() {
  const { uid = '' } = useParams();
  const api = useApi(pavedApiRef);
  const deleted = useAsync(() => api.listDeletedTenants(), [api]);
  const audit = usePagedPaved(
    (p, cursor) =>
      p.listDeletedTenantAudit(uid, { limit: DELETED_AUDIT_PAGE_SIZE, cursor }),
    [uid],
  );
  const tenant = deleted.value?.items.find(t => t.uid === uid);
  if (deleted.loading) return <Progress />;
  return (
    <Container>
      <p>
        <Link href="../-/deleted">Back to the deleted tenants</Link>
      </p>
      {tenant ? (
        <>
          <h2>{tenant.displayName} (deleted)</h2>
          <p>
            Tenant {tenant.name} · owner {tenant.owner} · created{' '}
            {when(tenant.createdAt)} · deleted {when(tenant.deletedAt)}
          </p>
        </>
      ) : (
        <h2>Deleted tenant {uid}</h2>
      )}
      <AuditTable title="History" list={audit} showApp />
    </Container>
  );
}
