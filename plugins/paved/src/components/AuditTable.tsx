import {
  InfoCard,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';
import {
  apiErrorMessage,
  AuditEntryView,
  AuditVia,
} from '@paved/plugin-paved-common';
import { PagedList } from '../hooks';

/** What each `via` means, for the chip's tooltip. */
const VIA_TITLES: Record<AuditVia, string> = {
  ui: 'In Backstage, on a Paved page',
  template: 'By a software template',
  cli: 'With the paved command-line tool',
  api: "A user's own call to the API",
  token: 'A script or service with a service token',
};

/** `key: value` pairs of an entry's detail, lists joined, in one line. */
export function describeDetail(detail?: Record<string, unknown>): string {
  if (!detail) return '';
  return Object.entries(detail)
    .filter(([, value]) => value !== undefined && value !== null)
    .filter(([, value]) => !(Array.isArray(value) && value.length === 0))
    .map(([key, value]) => {
      if (Array.isArray(value)) return `${key}: ${value.join(', ')}`;
      if (typeof value === 'object') return `${key}: ${JSON.stringify(value)}`;
      return `${key}: ${String(value)}`;
    })
    .join(' · ');
}

/** "Load more" under a paged list, while the server has older items. */
export function LoadMore(props: { list: PagedList<unknown>; what: string }) {
  const { list, what } = props;
  if (!list.hasMore) return null;
  return (
    <Box display="flex" justifyContent="center" p={1}>
      <Button
        variant="outlined"
        size="small"
        disabled={list.loadingMore}
        onClick={list.loadMore}
      >
        {list.loadingMore ? 'Loading…' : `Load older ${what}`}
      </Button>
    </Box>
  );
}

/** A paged list's failure, in the server's words, with a way to try again. */
export function PagedError(props: { list: PagedList<unknown> }) {
  const { list } = props;
  if (!list.error) return null;
  return (
    <ResponseErrorPanel
      title={apiErrorMessage(list.error)}
      error={list.error}
      defaultExpanded={false}
    />
  );
}

/**
 * The audit log: who did what, when, and where from (UI, template, CLI,
 * API, token), newest first, a page at a time.
 */
export function AuditTable(props: {
  title: string;
  list: PagedList<AuditEntryView>;
  /** Show which app each entry is about (the tenant's log). */
  showApp?: boolean;
}) {
  const { title, list, showApp } = props;
  const columns: TableColumn<AuditEntryView>[] = [
    {
      title: 'When',
      render: e => <span title={e.at}>{new Date(e.at).toLocaleString()}</span>,
    },
    { title: 'Who', field: 'actor' },
    { title: 'What', field: 'action' },
    ...(showApp
      ? [
          {
            title: 'App',
            render: (e: AuditEntryView) => e.app ?? '—',
          } as TableColumn<AuditEntryView>,
        ]
      : []),
    {
      title: 'Via',
      render: e => (
        <Chip
          size="small"
          label={e.via}
          title={VIA_TITLES[e.via] ?? e.via}
          data-testid="paved-audit-via"
        />
      ),
    },
    {
      title: 'Detail',
      render: e => (
        <Typography variant="body2" style={{ fontFamily: 'monospace' }}>
          {describeDetail(e.detail)}
        </Typography>
      ),
    },
  ];
  return (
    <InfoCard title={title} noPadding>
      <PagedError list={list} />
      <Table<AuditEntryView>
        options={{
          paging: false,
          search: false,
          toolbar: false,
          padding: 'dense',
        }}
        isLoading={list.loading}
        data={list.items}
        columns={columns}
        emptyContent={<div style={{ padding: 16 }}>Nothing recorded yet.</div>}
      />
      <LoadMore list={list} what="entries" />
    </InfoCard>
  );
}
