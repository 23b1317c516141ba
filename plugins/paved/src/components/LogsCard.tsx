import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  InfoCard,
  LogViewer,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/frontend-plugin-api';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Checkbox from '@material-ui/core/Checkbox';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { useLocation } from 'react-router-dom';
import {
  apiErrorMessage,
  AppView,
  LogStreamEvent,
  SYSTEM_CONTAINER,
} from '@paved/plugin-paved-common';
import { pavedApiRef } from '../api';
import { formatLogLine, formatNotice, LogBuffer } from './logText';

/** The element id of the log view, which the error advice links to. */
export const LOGS_ANCHOR = 'paved-logs';

/** The tail sizes offered (lines per instance before following). */
export const TAIL_CHOICES = [100, 500, 1000, 5000];

/** Lines that arrive together are shown together, at most this often. */
const FLUSH_MS = 50;

type StreamState =
  | { state: 'following' }
  | { state: 'ended' }
  | { state: 'failed'; message: string }
  | { state: 'refused'; error: Error };

/**
 * The app's container logs, followed live: every instance's lines with the
 * instance and revision that printed them. Pausing holds new lines back
 * (kept, not shown, counted) and resuming shows them in order; the system
 * lines of Knative's queue-proxy are left out unless asked for; the tail
 * size is how many earlier lines of each instance come first.
 */
export function LogsCard(props: { app: AppView }) {
  const { app } = props;
  const api = useApi(pavedApiRef);
  const [system, setSystem] = useState(false);
  const [tailLines, setTailLines] = useState(TAIL_CHOICES[0]);
  const [attempt, setAttempt] = useState(0);
  const [stream, setStream] = useState<StreamState>({ state: 'following' });
  const buffer = useMemo(() => new LogBuffer(), []);
  // Bumped whenever the buffer changes, so the view renders it.
  const [, setVersion] = useState(0);
  const changed = useCallback(() => setVersion(v => v + 1), []);
  const rootRef = useRef<HTMLDivElement>(null);
  const location = useLocation();

  // Opened by the error advice's link: bring the log view into sight.
  useEffect(() => {
    if (location.hash === `#${LOGS_ANCHOR}`) {
      rootRef.current?.scrollIntoView?.({ block: 'start' });
    }
  }, [location.hash]);

  useEffect(() => {
    const controller = new AbortController();
    let pending: string[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      if (controller.signal.aborted || pending.length === 0) return;
      buffer.add(pending);
      pending = [];
      changed();
    };
    const push = (text: string) => {
      pending.push(text);
      if (!timer) timer = setTimeout(flush, FLUSH_MS);
    };
    const onEvent = (event: LogStreamEvent) => {
      if (controller.signal.aborted) return;
      if (event.type === 'line') {
        push(formatLogLine(event.line));
      } else if (event.type === 'notice') {
        push(formatNotice(event.message));
      } else if (event.type === 'error') {
        flush();
        setStream({ state: 'failed', message: event.message });
      }
    };
    buffer.clear();
    changed();
    setStream({ state: 'following' });
    api
      .streamLogs(
        app.tenant,
        app.name,
        { follow: true, tailLines, system },
        { onEvent, signal: controller.signal },
      )
      .then(
        () => {
          if (controller.signal.aborted) return;
          flush();
          setStream(s => (s.state === 'failed' ? s : { state: 'ended' }));
        },
        error => {
          if (controller.signal.aborted) return;
          flush();
          setStream({ state: 'refused', error });
        },
      );
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [api, app.tenant, app.name, tailLines, system, attempt, buffer, changed]);

  const text = buffer.shown.join('\n');
  const live = stream.state === 'following';
  let status: string;
  if (buffer.paused) {
    status = `Paused: ${buffer.held} new line${
      buffer.held === 1 ? '' : 's'
    } held back, shown when you resume`;
  } else if (live) {
    status = 'Following live';
  } else {
    status = 'Not following';
  }

  return (
    <div id={LOGS_ANCHOR} ref={rootRef}>
      <InfoCard
        title="Logs"
        subheader="Each line: time, revision, instance, text"
      >
        <Box
          display="flex"
          alignItems="center"
          flexWrap="wrap"
          style={{ gap: 16 }}
          mb={1}
        >
          <Button
            variant="outlined"
            size="small"
            color={buffer.paused ? 'primary' : 'default'}
            onClick={() => {
              if (buffer.paused) buffer.resume();
              else buffer.pause();
              changed();
            }}
          >
            {buffer.paused ? 'Resume following' : 'Pause following'}
          </Button>
          <FormControlLabel
            control={
              <Checkbox
                checked={system}
                onChange={e => setSystem(e.target.checked)}
              />
            }
            label={`Include system lines (${SYSTEM_CONTAINER})`}
          />
          <TextField
            id="paved-logs-tail"
            select
            size="small"
            label="Earlier lines per instance"
            value={tailLines}
            onChange={e => setTailLines(Number(e.target.value))}
            style={{ minWidth: 200 }}
          >
            {TAIL_CHOICES.map(n => (
              <MenuItem key={n} value={n}>
                {n}
              </MenuItem>
            ))}
          </TextField>
          <Typography
            variant="body2"
            color="textSecondary"
            data-testid="paved-logs-status"
          >
            {status}
          </Typography>
          {!live && (
            <Button size="small" onClick={() => setAttempt(a => a + 1)}>
              Reconnect
            </Button>
          )}
        </Box>
        {stream.state === 'ended' && (
          <Alert severity="info">
            The log stream ended (the connection closed). Reconnect to follow
            again.
          </Alert>
        )}
        {stream.state === 'failed' && (
          <Alert severity="error">
            The log stream failed: {stream.message}
          </Alert>
        )}
        {stream.state === 'refused' && (
          <ResponseErrorPanel
            title={`The logs could not be read: ${apiErrorMessage(
              stream.error,
            )}`}
            error={stream.error}
            defaultExpanded={false}
          />
        )}
        {/* LogViewer fills its box, so the box has a fixed height. */}
        <div style={{ height: 420 }} data-testid="paved-logs-view">
          {text ? (
            <LogViewer text={text} />
          ) : (
            <Typography variant="body2" color="textSecondary">
              No lines yet.
            </Typography>
          )}
        </div>
      </InfoCard>
    </div>
  );
}
