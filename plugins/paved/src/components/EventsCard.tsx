import { InfoCard, Table, TableColumn } from '@backstage/core-components';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import { AppEvent, AppView } from '@paved/plugin-paved-common';
import { usePagedPaved } from '../hooks';
import { LoadMore, PagedError } from './AuditTable';

/** How many events a page holds. */
export const EVENTS_PAGE_SIZE = 25;

/**
 * What happened to the app, newest first: the Kubernetes events of its
 * pods, revisions and Knative objects, and the changes made through Paved,
 * a page at a time.
 */
export function EventsCard(props: { app: AppView; pageSize?: number }) {
  const { app, pageSize = EVENTS_PAGE_SIZE } = props;
  const events = usePagedPaved(
    (api, cursor) =>
      api.getAppEvents(app.tenant, app.name, {
        limit: pageSize,
        cursor,
      }),
    [app.tenant, app.name, pageSize],
  );
  const columns: TableColumn<AppEvent>[] = [
    {
      title: 'When',
      render: e => (
        <span title={e.time}>{new Date(e.time).toLocaleString()}</span>
      ),
    },
    {
      title: 'Type',
      render: e =>
        e.type === 'Warning' ? (
          <Chip size="small" label="Warning" color="secondary" />
        ) : (
          'Normal'
        ),
    },
    { title: 'Reason', field: 'reason' },
    {
      title: 'Object',
      render: e => `${e.object.kind} ${e.object.name}`,
    },
    {
      title: 'Message',
      render: e => (
        <span>
          {e.message}
          {e.count > 1 ? ` (×${e.count})` : ''}
        </span>
      ),
    },
    {
      title: 'Source',
      render: e => (e.actor ? `${e.source} · ${e.actor}` : e.source),
    },
  ];
  return (
    <InfoCard
      title="Events"
      subheader="Kubernetes' events and Paved's changes, newest first"
      noPadding
      action={
        <Button size="small" onClick={events.refresh} disabled={events.loading}>
          Refresh
        </Button>
      }
    >
      <PagedError list={events} />
      <Table<AppEvent>
        options={{
          paging: false,
          search: false,
          toolbar: false,
          padding: 'dense',
        }}
        isLoading={events.loading}
        data={events.items}
        columns={columns}
        emptyContent={<div style={{ padding: 16 }}>No events yet.</div>}
      />
      <LoadMore list={events} what="events" />
    </InfoCard>
  );
}
