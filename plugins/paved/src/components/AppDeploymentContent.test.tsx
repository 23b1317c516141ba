import { screen, waitFor, fireEvent, within } from '@testing-library/react';
import { renderInTestApp, mockApis } from '@backstage/frontend-test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { Entity } from '@backstage/catalog-model';
import { SWRConfig } from 'swr';
import { pavedApiRef } from '../api';
import { AppDeploymentContent } from './AppDeploymentContent';
import { FakePavedApi, appView } from '../testing/FakePavedApi';

const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'team-a-hello',
    annotations: { 'paved.dev/app': 'team-a/hello' },
  },
  spec: {
    type: 'service',
    owner: 'group:default/team-a',
    lifecycle: 'production',
  },
};

function render(api: FakePavedApi, allow: boolean, target: Entity = entity) {
  return renderInTestApp(
    // usePermission caches decisions in SWR's global cache; a fresh cache per
    // test keeps one test's ALLOW from answering the next test's DENY.
    <SWRConfig value={{ provider: () => new Map() }}>
      <EntityProvider entity={target}>
        <AppDeploymentContent />
      </EntityProvider>
    </SWRConfig>,
    {
      apis: [
        [pavedApiRef, api],
        mockApis.permission({
          authorize: allow ? AuthorizeResult.ALLOW : AuthorizeResult.DENY,
        }),
      ],
    },
  );
}

describe('AppDeploymentContent', () => {
  it('shows phase, URL, instances, revision and conditions of a ready app', async () => {
    await render(new FakePavedApi([appView()]), true);
    expect(
      await screen.findByText('Ready', {
        selector: '[data-testid="paved-phase"] *',
      }),
    ).toBeInTheDocument();
    expect(screen.getByTestId('paved-url')).toHaveAttribute(
      'href',
      'http://hello.tenant-team-a.example.com',
    );
    expect(screen.getByText('1 ready of 1')).toBeInTheDocument();
    expect(screen.getByText('2 (serving hello-00002)')).toBeInTheDocument();
    expect(screen.getByText('The app is serving')).toBeInTheDocument();
  });

  it("shows the operator's reason when the app failed", async () => {
    const failed = appView({
      status: {
        known: true,
        phase: 'Failed',
        message:
          'The image ghcr.io/acme/hello:1.0 could not be pulled: not found. Check the image name and tag.',
      },
    });
    await render(new FakePavedApi([failed]), true);
    expect(
      await screen.findByText(/could not be pulled: not found/),
    ).toBeInTheDocument();
    expect(screen.getByText('not assigned yet')).toBeInTheDocument();
  });

  it('shows the saved config with status unknown when the cluster has not reported', async () => {
    await render(
      new FakePavedApi([appView({ status: { known: false } })]),
      true,
    );
    expect(await screen.findByText(/Status unknown/)).toBeInTheDocument();
    expect(screen.getByText('Unknown')).toBeInTheDocument();
    expect(
      screen.getAllByText('ghcr.io/acme/hello:1.0').length,
    ).toBeGreaterThan(0);
  });

  it('masks secret env values', async () => {
    await render(new FakePavedApi([appView()]), true);
    const table = await screen.findByRole('table', {
      name: 'environment variables',
    });
    expect(within(table).getByText('TARGET')).toBeInTheDocument();
    expect(within(table).getByText(/\*{8} \(secret\)/)).toBeInTheDocument();
  });

  it('offers no owner actions to a user without permission', async () => {
    await render(new FakePavedApi([appView()]), false);
    await screen.findByTestId('paved-url');
    await waitFor(() =>
      expect(screen.queryByText('Pause')).not.toBeInTheDocument(),
    );
    expect(screen.queryByText('Delete')).not.toBeInTheDocument();
    expect(screen.queryByText('Roll back')).not.toBeInTheDocument();
    expect(screen.queryByLabelText('remove TARGET')).not.toBeInTheDocument();
  });

  it('pauses and resumes for an owner, and the phase follows', async () => {
    const api = new FakePavedApi([appView()]);
    await render(api, true);
    fireEvent.click(await screen.findByRole('button', { name: 'Pause' }));
    expect(
      await screen.findByText('Paused', {
        selector: '[data-testid="paved-phase"] *',
      }),
    ).toBeInTheDocument();
    fireEvent.click(await screen.findByRole('button', { name: 'Resume' }));
    expect(
      await screen.findByText('Ready', {
        selector: '[data-testid="paved-phase"] *',
      }),
    ).toBeInTheDocument();
    expect(api.calls).toEqual(['pause team-a/hello', 'resume team-a/hello']);
  });

  it('deletes only after the app name is typed', async () => {
    const api = new FakePavedApi([appView()]);
    await render(api, true);
    fireEvent.click(await screen.findByRole('button', { name: 'Delete' }));
    const dialog = await screen.findByRole('dialog');
    const confirm = within(dialog).getByRole('button', { name: 'Delete' });
    expect(confirm).toBeDisabled();
    fireEvent.change(within(dialog).getByLabelText('App name'), {
      target: { value: 'hello' },
    });
    fireEvent.click(confirm);
    await waitFor(() => expect(api.calls).toEqual(['delete team-a/hello']));
  });

  it('explains a component without the annotation', async () => {
    const plain = { ...entity, metadata: { name: 'plain' } };
    await render(new FakePavedApi(), true, plain);
    expect(await screen.findByText('Not a Paved app')).toBeInTheDocument();
  });
});
