import { useState } from 'react';
import { InfoCard } from '@backstage/core-components';
import { Link } from '@backstage/ui';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Checkbox from '@material-ui/core/Checkbox';
import Chip from '@material-ui/core/Chip';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { useApi } from '@backstage/frontend-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  appUpdatePermission,
  AppView,
  DomainView,
} from '@paved/plugin-paved-common';
import { pavedApiRef } from '../api';
import { useAppAction } from './AppActions';

/** How the claim reads. */
const CLAIMS: Record<DomainView['claim'], string> = {
  claimed: 'claimed',
  pending: 'waiting for the cluster',
  taken: 'taken outside Paved',
};

/** The TLS state in words, with the reason when there is one. */
function describeTls(tls: DomainView['tls']): string {
  if (tls.state === 'none') return 'HTTP only';
  const until = tls.notAfter
    ? ` (certificate valid until ${new Date(
        tls.notAfter,
      ).toLocaleDateString()})`
    : '';
  if (tls.state === 'ready') return `HTTPS ready${until}`;
  return `HTTPS ${tls.state}${tls.reason ? `: ${tls.reason}` : ''}${until}`;
}

/** Each domain of the app: the views the cluster gave, or the saved names alone. */
function domainsOf(app: AppView): DomainView[] {
  if (app.domainStatus) return app.domainStatus;
  return app.domains.map(domain => ({
    domain,
    claim: 'pending',
    ready: false,
    url: `http://${domain}`,
    tls: { state: 'none' },
  }));
}

/**
 * The app's custom domains and their state (claimed, routing, TLS); owners
 * add a domain (HTTP only, or HTTPS with their certificate and key pasted
 * in) and remove one. Adding a domain the app has already replaces its
 * certificate (or, with none given, removes it).
 */
export function DomainsCard(props: { app: AppView; onChanged: () => void }) {
  const { app, onChanged } = props;
  const api = useApi(pavedApiRef);
  const canUpdate = usePermission({
    permission: appUpdatePermission,
    resourceRef: app.tenant,
  });
  const { busy, run } = useAppAction(onChanged);
  const [domain, setDomain] = useState('');
  const [withTls, setWithTls] = useState(false);
  const [certificate, setCertificate] = useState('');
  const [privateKey, setPrivateKey] = useState('');
  const domains = domainsOf(app);
  const tlsIncomplete = withTls && (!certificate.trim() || !privateKey.trim());

  return (
    <InfoCard title="Custom domains">
      <Table size="small" aria-label="custom domains">
        <TableHead>
          <TableRow>
            <TableCell>Domain</TableCell>
            <TableCell>Claim</TableCell>
            <TableCell>Routes to the app</TableCell>
            <TableCell>TLS</TableCell>
            {canUpdate.allowed && <TableCell />}
          </TableRow>
        </TableHead>
        <TableBody>
          {domains.length === 0 && (
            <TableRow>
              <TableCell colSpan={5}>
                No custom domains: the app answers at its own URL only.
              </TableCell>
            </TableRow>
          )}
          {domains.map(d => (
            <TableRow key={d.domain} data-testid={`paved-domain-${d.domain}`}>
              <TableCell>
                {d.ready ? (
                  <Link href={d.url} target="_blank" rel="noopener noreferrer">
                    {d.url}
                  </Link>
                ) : (
                  d.domain
                )}
              </TableCell>
              <TableCell>
                <Chip
                  size="small"
                  label={CLAIMS[d.claim] ?? d.claim}
                  color={d.claim === 'taken' ? 'secondary' : 'default'}
                />
              </TableCell>
              <TableCell>
                {d.ready ? 'yes' : 'not yet'}
                {d.message && (
                  <Typography variant="body2" color="textSecondary">
                    {d.message}
                  </Typography>
                )}
              </TableCell>
              <TableCell>{describeTls(d.tls)}</TableCell>
              {canUpdate.allowed && (
                <TableCell align="right">
                  <Button
                    size="small"
                    variant="outlined"
                    disabled={!!busy}
                    aria-label={`remove ${d.domain}`}
                    onClick={() =>
                      run(`Remove ${d.domain}`, () =>
                        api.removeDomain(app.tenant, app.name, d.domain),
                      )
                    }
                  >
                    Remove
                  </Button>
                </TableCell>
              )}
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {canUpdate.allowed && (
        <Box mt={2} display="flex" flexDirection="column" style={{ gap: 8 }}>
          <Box display="flex" alignItems="center" style={{ gap: 8 }}>
            <TextField
              id="paved-domain-name"
              label="Domain"
              size="small"
              placeholder="www.example.com"
              value={domain}
              onChange={e => setDomain(e.target.value.trim().toLowerCase())}
            />
            <FormControlLabel
              control={
                <Checkbox
                  checked={withTls}
                  onChange={e => setWithTls(e.target.checked)}
                />
              }
              label="HTTPS with my certificate"
            />
            <Button
              variant="outlined"
              disabled={!domain || tlsIncomplete || !!busy}
              onClick={() => {
                const body = withTls ? { certificate, privateKey } : {};
                // Cleared once the server took it: a refused certificate
                // stays in the form, to fix as the error says.
                run(`Add ${domain}`, async () => {
                  await api.putDomain(app.tenant, app.name, domain, body);
                  setDomain('');
                  setCertificate('');
                  setPrivateKey('');
                  setWithTls(false);
                });
              }}
            >
              Add
            </Button>
          </Box>
          {withTls && (
            <>
              <TextField
                id="paved-domain-certificate"
                label="Certificate (PEM chain, leaf first)"
                multiline
                minRows={3}
                variant="outlined"
                size="small"
                value={certificate}
                onChange={e => setCertificate(e.target.value)}
                inputProps={{ style: { fontFamily: 'monospace' } }}
              />
              <TextField
                id="paved-domain-key"
                label="Private key (PEM; stored encrypted, never shown again)"
                multiline
                minRows={3}
                variant="outlined"
                size="small"
                value={privateKey}
                onChange={e => setPrivateKey(e.target.value)}
                inputProps={{ style: { fontFamily: 'monospace' } }}
              />
            </>
          )}
        </Box>
      )}
    </InfoCard>
  );
}
