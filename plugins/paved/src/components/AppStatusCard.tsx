import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StructuredMetadataTable,
} from '@backstage/core-components';
import { Link } from '@backstage/ui';
import Alert from '@material-ui/lab/Alert';
import Typography from '@material-ui/core/Typography';
import {
  AppView,
  describeAppStatus,
  apiErrorMessage,
} from '@paved/plugin-paved-common';
import { PhaseChip } from './PhaseChip';
import { ConditionsTable } from './ConditionsTable';

/**
 * Why the app is not Ready, or why status is missing, in words a developer
 * can act on (paved-common's describeAppStatus, as the scaffolder action's
 * wait reads it).
 */
export function AppStatusNotice(props: {
  app: AppView;
  /** Where the app's log view is; the advice links to it when it points at the logs. */
  logsLink?: string;
}) {
  const { app, logsLink } = props;
  const { message, severity, state } = describeAppStatus(app);
  if (!message) return null;
  const pointsAtLogs = state === 'failed' || /\blogs?\b/i.test(message);
  return (
    <Alert
      severity={severity}
      action={
        logsLink && pointsAtLogs ? (
          <Link href={logsLink} data-testid="paved-logs-link">
            Show the logs
          </Link>
        ) : undefined
      }
    >
      {message}
    </Alert>
  );
}

/** The essentials of a deployed app: phase, URL, instances and revision. */
export function AppStatusSummary({ app }: { app: AppView }) {
  const instances = app.status.instances;
  return (
    <StructuredMetadataTable
      dense
      metadata={{
        Phase: <PhaseChip phase={app.status.phase} known={app.status.known} />,
        URL: app.status.url ? (
          <Link
            href={app.status.url}
            target="_blank"
            rel="noopener noreferrer"
            data-testid="paved-url"
          >
            {app.status.url}
          </Link>
        ) : (
          <Typography variant="body2" color="textSecondary">
            not assigned yet
          </Typography>
        ),
        Instances: instances
          ? `${instances.ready ?? 0} ready of ${instances.desired ?? 0}`
          : '—',
        Image: app.image,
        Revision: `${app.revision}${
          app.status.latestReadyRevision
            ? ` (serving ${app.status.latestReadyRevision})`
            : ''
        }`,
        Scaling: `${app.scaling.minInstances}–${
          app.scaling.maxInstances
        } instances${app.paused ? ', paused' : ''}`,
      }}
    />
  );
}

/** Overview card for an app's entity page. */
export function AppStatusCard(props: {
  app?: AppView;
  loading: boolean;
  error?: Error;
  /** Where the app's log view is, for the advice to link to. */
  logsLink?: string;
}) {
  const { app, loading, error, logsLink } = props;
  if (!app && loading) return <Progress />;
  if (!app && error) {
    return <ResponseErrorPanel title={apiErrorMessage(error)} error={error} />;
  }
  if (!app) return null;
  return (
    <InfoCard title="Deployment" subheader={app.ref}>
      <AppStatusNotice app={app} logsLink={logsLink} />
      <AppStatusSummary app={app} />
      {app.status.conditions && app.status.conditions.length > 0 && (
        <ConditionsTable conditions={app.status.conditions} />
      )}
    </InfoCard>
  );
}
