/**
 * The tenants pages on the real backend (`startPavedBackend`, SQLite) through
 * the real `PavedApiClient` over Node's fetch. What only the cluster says
 * (phase, quota usage) comes from a real kube-apiserver, where the test
 * writes the Tenant's status as the operator would.
 */
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { renderInTestApp } from '@backstage/frontend-test-utils';
import { ReactRouterV6PageRouter } from '@backstage/frontend-adapter-react-router-v6';
import { eventually, useTestCluster } from '@paved/test-cluster';
import type { TenantView } from '@paved/plugin-paved-common';
import { pavedApiRef } from '../api';
import { TenantDetailPage, TenantsPage } from './TenantsPage';
import { TenantsRoutes } from './TenantsRoutes';
import {
  PavedStack,
  TEAM_A,
  inMemoryDatabase,
  startPavedStack,
} from '../__testUtils__/pavedStack';

jest.setTimeout(180_000);

// A Jest helper (beforeAll/afterAll), not a React hook.
// eslint-disable-next-line react-hooks/rules-of-hooks
const cluster = useTestCluster({
  knative: false,
  capsule: false,
  cilium: false,
});

let stacks: PavedStack[] = [];
async function stack(options: Parameters<typeof startPavedStack>[0] = {}) {
  const started = await startPavedStack(options);
  stacks.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(stacks.map(s => s.stop()));
  stacks = [];
});

/**
 * One of the tenants pages as TenantsRoutes renders it: inside the page's
 * React Router adapter, which gives it the params of where it is mounted
 * (`:tenant`) and resolves its relative links.
 */
function asPage(element: JSX.Element) {
  return <ReactRouterV6PageRouter>{element}</ReactRouterV6PageRouter>;
}

describe('TenantsPage', () => {
  it('lists tenants with plan, phase and quota usage', async () => {
    const paved = await stack({ cluster: cluster() });
    const client = paved.client();
    await client.createTenant({
      name: 'team-a',
      displayName: 'Team A',
      owner: TEAM_A,
      plan: 'starter',
    });
    await client.createTenant({
      name: 'team-b',
      displayName: 'Team B',
      owner: TEAM_A,
      plan: 'free',
    });
    // The operator has reported on team-a only.
    await paved.operator.writeTenantStatus('team-a', {
      phase: 'Active',
      namespace: 'tenant-team-a',
      appCount: 0,
      usage: {
        cpu: { used: '500m', hard: '4' },
        memory: { used: '7Gi', hard: '8Gi' },
      },
    });
    await waitForTenant(paved, 'team-a', t => t.status.phase === 'Active');
    await waitForTenant(paved, 'team-b', t => t.status.known);

    await renderInTestApp(asPage(<TenantsPage />), {
      apis: [[pavedApiRef, client]],
    });
    expect(await screen.findByText('Team A')).toBeInTheDocument();
    expect(screen.getByText('Team B')).toBeInTheDocument();
    expect(screen.getByText('starter')).toBeInTheDocument();
    expect(screen.getByText('free')).toBeInTheDocument();
    expect(screen.getByText('Active')).toBeInTheDocument();
    // Known to the cluster, not yet reported on by the operator.
    expect(screen.getByText('Pending')).toBeInTheDocument();
    expect(screen.getByText('CPU 500m / 4')).toBeInTheDocument();
    expect(screen.getByText('Memory 7Gi / 8Gi')).toBeInTheDocument();
    expect(screen.getAllByRole('progressbar')[1]).toHaveAttribute(
      'aria-valuenow',
      '88',
    );
  });

  it('shows the phase Unknown while the backend has no word from the cluster', async () => {
    // No cluster configured: the backend saves tenants and knows no status.
    const paved = await stack();
    const client = paved.client();
    await client.createTenant({
      name: 'team-b',
      displayName: 'Team B',
      owner: TEAM_A,
      plan: 'free',
    });
    await renderInTestApp(asPage(<TenantsPage />), {
      apis: [[pavedApiRef, client]],
    });
    expect(await screen.findByText('Team B')).toBeInTheDocument();
    expect(screen.getByText('Unknown')).toBeInTheDocument();
  });

  it('tells a user without tenants how to get one', async () => {
    const paved = await stack();
    await renderInTestApp(asPage(<TenantsPage />), {
      apis: [[pavedApiRef, paved.client()]],
    });
    expect(
      await screen.findByText(/You have no tenants yet/),
    ).toBeInTheDocument();
  });

  it("leads an error with the server's words, not the HTTP status", async () => {
    const paved = await stack();
    await renderInTestApp(asPage(<TenantDetailPage />), {
      apis: [[pavedApiRef, paved.client()]],
      mountPath: '/:tenant',
      initialRouteEntries: ['/nobody-here'],
    });
    expect(
      await screen.findByText('Tenant nobody-here not found'),
    ).toBeInTheDocument();
    expect(screen.queryByText(/Request failed with/)).not.toBeInTheDocument();
  });

  it("shows a tenant's sync error, such as a plan no longer offered", async () => {
    const knex = inMemoryDatabase();
    try {
      // The tenant is created on a plan the platform offered then ...
      const before = await startPavedStack({
        cluster: cluster(),
        knex,
        paved: {
          plans: { gold: { cpu: '8', memory: '16Gi', maxApps: 20 } },
        },
      });
      await before.client().createTenant({
        name: 'team-gold',
        displayName: 'Team Gold',
        owner: TEAM_A,
        plan: 'gold',
      });
      await waitForTenant(before, 'team-gold', t => !t.sync.pending);
      await before.stop();
      // ... and the backend restarts, on the same database, without it.
      const paved = await stack({ cluster: cluster(), knex });
      const synced = await waitForTenant(
        paved,
        'team-gold',
        t => !!t.sync.lastError,
      );
      expect(synced.sync.lastError).toMatch(
        /^Plan "gold" is no longer offered \(paved\.plans\); move the tenant to one of free, starter/,
      );

      await renderInTestApp(asPage(<TenantDetailPage />), {
        apis: [[pavedApiRef, paved.client()]],
        mountPath: '/:tenant',
        initialRouteEntries: ['/team-gold'],
      });
      expect(
        await screen.findByText(
          /could not be brought in line with this tenant/,
        ),
      ).toHaveTextContent(synced.sync.lastError!);
    } finally {
      await Promise.all(stacks.map(s => s.stop()));
      stacks = [];
      await knex.destroy();
    }
  });

  it("shows a tenant's history: who, what, when and where from, a page at a time", async () => {
    const paved = await stack();
    await paved.client().createTenant({
      name: 'team-a',
      displayName: 'Team A',
      owner: TEAM_A,
    });
    // Through the UI's client (x-paved-client: ui).
    await paved.uiClient().deployApp('team-a', 'web', {
      image: 'ghcr.io/acme/web:1.0',
    });
    await renderInTestApp(asPage(<TenantDetailPage auditPageSize={1} />), {
      apis: [[pavedApiRef, paved.uiClient()]],
      mountPath: '/:tenant',
      initialRouteEntries: ['/team-a'],
    });
    const history = within(await historyTable());
    await waitFor(() =>
      expect(history.getByText('app.deploy')).toBeInTheDocument(),
    );
    expect(history.getByText('web')).toBeInTheDocument();
    expect(history.getByText('user:default/alice')).toBeInTheDocument();
    expect(history.queryByText('tenant.create')).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Load older entries' }));
    await waitFor(() =>
      expect(history.getByText('tenant.create')).toBeInTheDocument(),
    );
    expect(
      history.getAllByTestId('paved-audit-via').map(c => c.textContent),
    ).toEqual(['ui', 'api']);
    // Two entries in all: no further page.
    expect(
      screen.queryByRole('button', { name: 'Load older entries' }),
    ).not.toBeInTheDocument();
  });

  it("keeps a deleted tenant's history, reachable from the tenants page; a new tenant of the name starts afresh", async () => {
    const paved = await stack({ cluster: cluster() });
    const client = paved.client();
    await client.createTenant({
      name: 'team-gone',
      displayName: 'Team Gone',
      owner: TEAM_A,
    });
    await client.deployApp('team-gone', 'old', {
      image: 'ghcr.io/acme/old:1.0',
    });
    await paved.uiClient().deleteTenant('team-gone');
    // The backend purges the tenant once the cluster has let it go.
    await eventually('team-gone in the history', async () =>
      (
        await client.listDeletedTenants()
      ).items.find(t => t.name === 'team-gone'),
    );
    await client.createTenant({
      name: 'team-gone',
      displayName: 'Team Gone Again',
      owner: TEAM_A,
    });

    await renderInTestApp(<TenantsRoutes />, {
      apis: [[pavedApiRef, paved.uiClient()]],
      mountPath: '/paved/tenants/*',
      initialRouteEntries: ['/paved/tenants'],
    });
    fireEvent.click(
      await screen.findByRole('link', { name: 'History of deleted tenants' }),
    );
    fireEvent.click(await screen.findByRole('link', { name: 'Team Gone' }));
    expect(await screen.findByText('Team Gone (deleted)')).toBeInTheDocument();
    const old = within(await historyTable());
    await waitFor(() =>
      expect(old.getByText('tenant.delete')).toBeInTheDocument(),
    );
    expect(old.getByText('app.deploy')).toBeInTheDocument();
    expect(old.getByText('tenant.create')).toBeInTheDocument();
    expect(
      old.getAllByTestId('paved-audit-via').map(c => c.textContent),
    ).toEqual(['ui', 'api', 'api']);

    // The tenant of the same name now: only its own creation.
    fireEvent.click(
      screen.getByRole('link', { name: 'Back to the deleted tenants' }),
    );
    fireEvent.click(
      await screen.findByRole('link', { name: 'Back to the tenants' }),
    );
    fireEvent.click(
      await screen.findByRole('link', { name: 'Team Gone Again' }),
    );
    const fresh = within(await historyTable());
    await waitFor(() =>
      expect(fresh.getByText('tenant.create')).toBeInTheDocument(),
    );
    expect(fresh.queryByText('tenant.delete')).not.toBeInTheDocument();
    expect(fresh.queryByText('app.deploy')).not.toBeInTheDocument();
  });
});

/** The table of the History card, once it has rendered. */
async function historyTable(): Promise<HTMLElement> {
  const title = await screen.findByText('History');
  const card = title.closest('.MuiCard-root') as HTMLElement;
  return within(card).findByRole('table');
}

/** The tenant as the API answers it, once `check` holds. */
async function waitForTenant(
  paved: PavedStack,
  name: string,
  check: (tenant: TenantView) => boolean,
) {
  const client = paved.client();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const tenant = await client.getTenant(name);
    if (check(tenant)) return tenant;
    if (Date.now() > deadline) {
      throw new Error(
        `Tenant ${name} did not reach the expected state: ${JSON.stringify(
          tenant,
        )}`,
      );
    }
    await new Promise(resolve => setTimeout(resolve, 250));
  }
}
