import { screen } from '@testing-library/react';
import { renderInTestApp } from '@backstage/frontend-test-utils';
import { pavedApiRef } from '../api';
import { TenantDetailPage, TenantsPage } from './TenantsPage';
import { FakePavedApi, tenantView } from '../testing/FakePavedApi';

describe('TenantsPage', () => {
  it('lists tenants with plan, phase and quota usage', async () => {
    const api = new FakePavedApi(
      [],
      [
        tenantView(),
        tenantView({
          name: 'team-b',
          displayName: 'Team B',
          plan: 'free',
          status: { known: false },
        }),
      ],
    );
    await renderInTestApp(<TenantsPage />, { apis: [[pavedApiRef, api]] });
    expect(await screen.findByText('Team A')).toBeInTheDocument();
    expect(screen.getByText('Team B')).toBeInTheDocument();
    expect(screen.getByText('Active')).toBeInTheDocument();
    expect(screen.getByText('Unknown')).toBeInTheDocument();
    expect(screen.getByText('CPU 500m / 4')).toBeInTheDocument();
    expect(screen.getByText('Memory 7Gi / 8Gi')).toBeInTheDocument();
    expect(screen.getAllByRole('progressbar')[1]).toHaveAttribute(
      'aria-valuenow',
      '88',
    );
  });

  it('tells a user without tenants how to get one', async () => {
    await renderInTestApp(<TenantsPage />, {
      apis: [[pavedApiRef, new FakePavedApi()]],
    });
    expect(
      await screen.findByText(/You have no tenants yet/),
    ).toBeInTheDocument();
  });

  it("shows a tenant's sync error, such as a plan no longer offered", async () => {
    const message =
      'Plan "gold" is no longer offered (paved.plans); move the tenant to one of free, starter';
    const api = new FakePavedApi(
      [],
      [
        tenantView({
          plan: 'gold',
          sync: {
            generation: 1,
            appliedGeneration: 1,
            pending: false,
            lastError: message,
          },
        }),
      ],
    );
    await renderInTestApp(<TenantDetailPage />, {
      apis: [[pavedApiRef, api]],
      mountPath: '/:tenant',
      initialRouteEntries: ['/team-a'],
    });
    expect(
      await screen.findByText(/could not be brought in line with this tenant/),
    ).toHaveTextContent(message);
  });
});
