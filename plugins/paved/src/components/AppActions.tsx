import { useState } from 'react';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';
import Box from '@material-ui/core/Box';
import { coreApis, useApi } from '@backstage/frontend-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  apiErrorMessage,
  appDeletePermission,
  appUpdatePermission,
  AppView,
} from '@paved/plugin-paved-common';
import { pavedApiRef } from '../api';

/** How long a success toast stays. */
const TOAST_DONE_TIMEOUT_MS = 5000;

/** Runs an API call, reports its failure with the backend's reason, then refreshes. */
export function useAppAction(onDone: () => void) {
  const toastApi = useApi(coreApis.toast);
  const [busy, setBusy] = useState<string | undefined>();
  const run = async (label: string, action: () => Promise<unknown>) => {
    setBusy(label);
    try {
      await action();
      toastApi.post({
        title: `${label}: done`,
        status: 'success',
        timeout: TOAST_DONE_TIMEOUT_MS,
      });
    } catch (error) {
      // Stays until dismissed: the reason is what to fix.
      toastApi.post({
        title: `${label} failed`,
        description: apiErrorMessage(error),
        status: 'danger',
      });
    } finally {
      setBusy(undefined);
      onDone();
    }
  };
  return { busy, run };
}

/**
 * Pause, resume, redeploy and delete. Only the buttons the user's
 * permissions allow are offered; delete asks to type the app's name.
 */
export function AppActions(props: { app: AppView; onChanged: () => void }) {
  const { app, onChanged } = props;
  const api = useApi(pavedApiRef);
  const canUpdate = usePermission({
    permission: appUpdatePermission,
    resourceRef: app.tenant,
  });
  const canDelete = usePermission({
    permission: appDeletePermission,
    resourceRef: app.tenant,
  });
  const { busy, run } = useAppAction(onChanged);
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState('');

  if (canUpdate.loading || canDelete.loading) return null;
  return (
    <Box display="flex" style={{ gap: 8 }} my={1}>
      {canUpdate.allowed && !app.paused && (
        <Button
          variant="outlined"
          disabled={!!busy}
          onClick={() => run('Pause', () => api.pauseApp(app.tenant, app.name))}
        >
          Pause
        </Button>
      )}
      {canUpdate.allowed && app.paused && (
        <Button
          variant="outlined"
          color="primary"
          disabled={!!busy}
          onClick={() =>
            run('Resume', () => api.resumeApp(app.tenant, app.name))
          }
        >
          Resume
        </Button>
      )}
      {canUpdate.allowed && (
        <Button
          variant="outlined"
          disabled={!!busy}
          onClick={() =>
            run('Redeploy', () => api.redeployApp(app.tenant, app.name))
          }
        >
          Redeploy
        </Button>
      )}
      {canDelete.allowed && (
        <Button
          variant="outlined"
          style={{ color: '#c62828' }}
          disabled={!!busy}
          onClick={() => setConfirming(true)}
        >
          Delete
        </Button>
      )}
      <Dialog open={confirming} onClose={() => setConfirming(false)}>
        <DialogTitle>Delete {app.ref}?</DialogTitle>
        <DialogContent>
          <DialogContentText>
            The app, its URL and its revisions are removed. Type{' '}
            <b>{app.name}</b> to confirm.
          </DialogContentText>
          <TextField
            id="paved-delete-confirm"
            fullWidth
            label="App name"
            value={typed}
            onChange={e => setTyped(e.target.value)}
          />
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setConfirming(false)}>Cancel</Button>
          <Button
            style={{ color: '#c62828' }}
            disabled={typed !== app.name}
            onClick={() => {
              setConfirming(false);
              run('Delete', () => api.deleteApp(app.tenant, app.name));
            }}
          >
            Delete
          </Button>
        </DialogActions>
      </Dialog>
    </Box>
  );
}
