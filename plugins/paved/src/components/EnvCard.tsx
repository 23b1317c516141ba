import { useState } from 'react';
import { InfoCard } from '@backstage/core-components';
import Button from '@material-ui/core/Button';
import Checkbox from '@material-ui/core/Checkbox';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import IconButton from '@material-ui/core/IconButton';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableRow from '@material-ui/core/TableRow';
import TextField from '@material-ui/core/TextField';
import Box from '@material-ui/core/Box';
import { useApi } from '@backstage/frontend-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  appUpdatePermission,
  AppView,
  envNameProblem,
} from '@paved/plugin-paved-common';
import { pavedApiRef } from '../api';
import { useAppAction } from './AppActions';

/** Env vars of an app; secret values stay masked. Owners add, change and remove them. */
export function EnvCard(props: { app: AppView; onChanged: () => void }) {
  const { app, onChanged } = props;
  const api = useApi(pavedApiRef);
  const canUpdate = usePermission({
    permission: appUpdatePermission,
    resourceRef: app.tenant,
  });
  const { busy, run } = useAppAction(onChanged);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [secret, setSecret] = useState(false);
  const nameProblem = name ? envNameProblem(name) : undefined;

  return (
    <InfoCard title="Environment variables">
      <Table size="small" aria-label="environment variables">
        <TableBody>
          {app.env.length === 0 && (
            <TableRow>
              <TableCell>No environment variables.</TableCell>
            </TableRow>
          )}
          {app.env.map(entry => (
            <TableRow key={entry.name}>
              <TableCell style={{ fontFamily: 'monospace' }}>
                {entry.name}
              </TableCell>
              <TableCell style={{ fontFamily: 'monospace' }}>
                {entry.value}
                {entry.secret ? ' (secret)' : ''}
              </TableCell>
              {canUpdate.allowed && (
                <TableCell align="right">
                  <IconButton
                    size="small"
                    aria-label={`remove ${entry.name}`}
                    disabled={!!busy}
                    onClick={() =>
                      run(`Remove ${entry.name}`, () =>
                        api.patchEnv(app.tenant, app.name, {
                          remove: [entry.name],
                        }),
                      )
                    }
                  >
                    ✕
                  </IconButton>
                </TableCell>
              )}
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {canUpdate.allowed && (
        <Box display="flex" alignItems="center" style={{ gap: 8 }} mt={2}>
          {/* An id ties each label to its input, for screen readers and tests. */}
          <TextField
            id="paved-env-name"
            label="Name"
            size="small"
            value={name}
            error={!!nameProblem}
            helperText={nameProblem}
            onChange={e => setName(e.target.value)}
          />
          <TextField
            id="paved-env-value"
            label="Value"
            size="small"
            value={value}
            onChange={e => setValue(e.target.value)}
            type={secret ? 'password' : 'text'}
          />
          <FormControlLabel
            control={
              <Checkbox
                checked={secret}
                onChange={e => setSecret(e.target.checked)}
              />
            }
            label="Secret"
          />
          <Button
            variant="outlined"
            disabled={!name || !!nameProblem || !!busy}
            onClick={() => {
              const entry = { name, value, secret };
              setName('');
              setValue('');
              setSecret(false);
              run(`Set ${entry.name}`, () =>
                api.patchEnv(app.tenant, app.name, { set: [entry] }),
              );
            }}
          >
            Set
          </Button>
        </Box>
      )}
    </InfoCard>
  );
}
