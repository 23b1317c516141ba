/**
 * What an app's status means, written once: the scaffolder action's wait
 * (`waitUntilSettled`) and the UI's status card both read it from here.
 */
import type { AppView } from './api';

export type AppStatusState =
  /** The cluster has not reported on the app (unreachable, not created yet). */
  | 'unknown'
  /** The last change is saved and the cluster has not accepted it yet. */
  | 'syncing'
  /** The cluster holds an older config than saved, and repairing it failed. */
  | 'sync-failed'
  /** The operator reports the app Failed. */
  | 'failed'
  /** Rolling out, pending, paused or deleting: not Ready, not Failed. */
  | 'progressing'
  | 'ready';

export interface AppStatusDescription {
  state: AppStatusState;
  /**
   * True when waiting changes nothing more: the cluster accepted the latest
   * write (of `revision`, when given), the operator has observed it and
   * reports Ready or Failed.
   */
  settled: boolean;
  /** The phase to show: "Unknown" when the cluster has not told, "Pending" before it has a phase. */
  phase: string;
  /**
   * What the user can act on, when there is something to say (absent when
   * Ready, or rolling out without a word from the operator).
   */
  message?: string;
  /** How bad `message` is. */
  severity?: 'info' | 'warning' | 'error';
  /** Where the rollout stands, in one line for a log. */
  progress: string;
}

/**
 * Interprets an app's sync state and cluster status. `revision` is the
 * config revision the caller waits for (settled only once the app is at
 * it); omitted, the app's own.
 */
export function describeAppStatus(
  app: Pick<AppView, 'revision' | 'sync' | 'status'>,
  options: { revision?: number } = {},
): AppStatusDescription {
  const { sync, status } = app;
  const revision = options.revision ?? app.revision;
  const phase = status.known ? status.phase ?? 'Pending' : 'Unknown';
  const settled =
    app.revision === revision &&
    !sync.pending &&
    status.current === true &&
    (status.phase === 'Ready' || status.phase === 'Failed');
  const progress = sync.pending
    ? `waiting for the cluster to accept revision ${revision}${
        sync.lastError ? ` (${sync.lastError})` : ''
      }`
    : `phase ${status.known ? phase : 'unknown'}${
        status.message ? `: ${status.message}` : ''
      }`;
  const describe = (
    state: AppStatusState,
    severity?: AppStatusDescription['severity'],
    message?: string,
  ): AppStatusDescription => ({
    state,
    settled,
    phase,
    progress,
    ...(message ? { message, severity } : {}),
  });

  if (!status.known) {
    return describe(
      'unknown',
      'info',
      'Status unknown: the cluster has not reported on this app (it may be unreachable). Showing the saved configuration.',
    );
  }
  if (sync.pending) {
    return describe(
      'syncing',
      'info',
      `Your last change is saved and waiting for the cluster to accept it${
        sync.lastError ? ` (${sync.lastError})` : ''
      }; it is retried automatically.`,
    );
  }
  if (sync.lastError) {
    return describe(
      'sync-failed',
      'warning',
      `The cluster could not be brought in line with this app (${sync.lastError}); it is retried automatically.`,
    );
  }
  if (status.phase === 'Failed') {
    return describe(
      'failed',
      'error',
      status.message ?? 'The app failed; the operator gave no reason.',
    );
  }
  if (status.phase === 'Ready') return describe('ready');
  return describe('progressing', 'warning', status.message);
}
