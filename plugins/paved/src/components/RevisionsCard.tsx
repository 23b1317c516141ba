import { InfoCard, Table, TableColumn } from '@backstage/core-components';
import Button from '@material-ui/core/Button';
import { useApi } from '@backstage/frontend-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  appUpdatePermission,
  AppView,
  RevisionView,
} from '@paved/plugin-paved-common';
import { pavedApiRef } from '../api';
import { usePolledPaved } from '../hooks';
import { useAppAction } from './AppActions';

/** Every deploy of the app, newest first, with roll back for owners. */
export function RevisionsCard(props: { app: AppView; onChanged: () => void }) {
  const { app, onChanged } = props;
  const api = useApi(pavedApiRef);
  const canUpdate = usePermission({
    permission: appUpdatePermission,
    resourceRef: app.tenant,
  });
  const revisions = usePolledPaved(
    p => p.listRevisions(app.tenant, app.name),
    [app.tenant, app.name, app.revision],
    { intervalMs: 0 },
  );
  const { busy, run } = useAppAction(() => {
    onChanged();
    revisions.retry();
  });

  const columns: TableColumn<RevisionView>[] = [
    { title: 'Revision', field: 'revision' },
    { title: 'Action', field: 'action' },
    { title: 'Image', field: 'image' },
    { title: 'By', field: 'actor' },
    { title: 'When', render: row => new Date(row.createdAt).toLocaleString() },
  ];
  if (canUpdate.allowed) {
    columns.push({
      title: '',
      render: row =>
        row.revision === app.revision ? (
          'current'
        ) : (
          <Button
            size="small"
            variant="outlined"
            disabled={!!busy}
            onClick={() =>
              run(`Roll back to revision ${row.revision}`, () =>
                api.rollbackApp(app.tenant, app.name, row.revision),
              )
            }
          >
            Roll back
          </Button>
        ),
    });
  }
  return (
    <InfoCard title="Revision history" noPadding>
      <Table<RevisionView>
        options={{
          paging: false,
          search: false,
          toolbar: false,
          padding: 'dense',
        }}
        isLoading={revisions.loading && !revisions.value}
        data={[...(revisions.value?.items ?? [])].sort(
          (a, b) => b.revision - a.revision,
        )}
        columns={columns}
        emptyContent={<div style={{ padding: 16 }}>No revisions yet.</div>}
      />
    </InfoCard>
  );
}
