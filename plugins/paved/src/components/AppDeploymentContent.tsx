import Grid from '@material-ui/core/Grid';
import {
  EmptyState,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import {
  ANNOTATION_APP,
  parseAppRef,
  apiErrorMessage,
  appSignalChannel,
} from '@paved/plugin-paved-common';
import { usePolledPaved } from '../hooks';
import { AppActions } from './AppActions';
import { AppStatusCard } from './AppStatusCard';
import { EnvCard } from './EnvCard';
import { RevisionsCard } from './RevisionsCard';
import { LOGS_ANCHOR, LogsCard } from './LogsCard';
import { EventsCard } from './EventsCard';
import { DomainsCard } from './DomainsCard';
import { AuditTable } from './AuditTable';
import { usePagedPaved } from '../hooks';
import { useLocation } from 'react-router-dom';
import { AppView } from '@paved/plugin-paved-common';

/** How many audit entries a page holds. */
export const AUDIT_PAGE_SIZE = 25;

/** The app's audit log: who changed it, when, from where. */
export function AppAuditCard(props: { app: AppView; pageSize?: number }) {
  const { app, pageSize = AUDIT_PAGE_SIZE } = props;
  const audit = usePagedPaved(
    (api, cursor) =>
      api.listAudit(app.tenant, app.name, { limit: pageSize, cursor }),
    [app.tenant, app.name, pageSize],
  );
  return <AuditTable title="History" list={audit} />;
}

/** The `<tenant>/<app>` an entity is annotated with, if it is a Paved app. */
export function useEntityAppRef() {
  const { entity } = useEntity();
  const annotation = entity.metadata.annotations?.[ANNOTATION_APP];
  return annotation ? parseAppRef(annotation) : undefined;
}

function MissingAnnotation() {
  return (
    <EmptyState
      missing="field"
      title="Not a Paved app"
      description={`Add the annotation ${ANNOTATION_APP}: <tenant>/<app> to show its deployment here.`}
    />
  );
}

/**
 * The entity's "Deployment" tab: status, actions, logs, env vars,
 * revisions, events and history.
 */
export function AppDeploymentContent() {
  const ref = useEntityAppRef();
  const app = usePolledPaved(
    api => (ref ? api.getApp(ref.tenant, ref.app) : Promise.resolve(undefined)),
    [ref?.tenant, ref?.app],
    { channels: ref ? [appSignalChannel(ref.tenant, ref.app)] : [] },
  );
  if (!ref) return <MissingAnnotation />;
  if (!app.value && app.loading) return <Progress />;
  if (!app.value)
    return (
      <ResponseErrorPanel
        title={app.error ? apiErrorMessage(app.error) : 'App not found'}
        error={app.error ?? new Error('App not found')}
      />
    );
  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <AppStatusCard
          app={app.value}
          loading={app.loading}
          error={app.error}
          logsLink={`#${LOGS_ANCHOR}`}
        />
        <AppActions app={app.value} onChanged={app.retry} />
      </Grid>
      <Grid item xs={12}>
        <LogsCard app={app.value} />
      </Grid>
      <Grid item xs={12} md={6}>
        <EnvCard app={app.value} onChanged={app.retry} />
      </Grid>
      <Grid item xs={12} md={6}>
        <RevisionsCard app={app.value} onChanged={app.retry} />
      </Grid>
      <Grid item xs={12}>
        <DomainsCard app={app.value} onChanged={app.retry} />
      </Grid>
      <Grid item xs={12}>
        <EventsCard app={app.value} />
      </Grid>
      <Grid item xs={12}>
        <AppAuditCard app={app.value} />
      </Grid>
    </Grid>
  );
}

/** The overview card on the entity page. */
export function AppOverviewCard() {
  const ref = useEntityAppRef();
  const app = usePolledPaved(
    api => (ref ? api.getApp(ref.tenant, ref.app) : Promise.resolve(undefined)),
    [ref?.tenant, ref?.app],
    { channels: ref ? [appSignalChannel(ref.tenant, ref.app)] : [] },
  );
  const { pathname } = useLocation();
  if (!ref) return <MissingAnnotation />;
  return (
    <AppStatusCard
      app={app.value}
      loading={app.loading}
      error={app.error}
      // The overview is the entity page's root; the logs are on its Deployment tab.
      logsLink={`${pathname.replace(/\/$/, '')}/deployment#${LOGS_ANCHOR}`}
    />
  );
}
