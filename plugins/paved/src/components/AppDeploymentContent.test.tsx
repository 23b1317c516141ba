/**
 * The Deployment tab on the real backend (`startPavedBackend`, SQLite, Paved's
 * policy) through the real `PavedApiClient` over Node's fetch. Status (phase,
 * URL, instances, revisions, conditions, the operator's message) comes from
 * a real kube-apiserver, where the test writes each App's status as the
 * operator would; "status unknown" from a backend with no cluster.
 *
 * The user's permission decisions in the browser come from Backstage's
 * permission API test double (ALLOW or DENY): the backend decides the same
 * with its own policy, and refuses what the user may not do either way.
 */
import {
  act,
  fireEvent,
  screen,
  waitFor,
  within,
} from '@testing-library/react';
import { renderInTestApp, mockApis } from '@backstage/frontend-test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { usePermission } from '@backstage/plugin-permission-react';
import { Entity } from '@backstage/catalog-model';
import {
  APP_CONTAINER,
  appDeletePermission,
  appUpdatePermission,
  SYSTEM_CONTAINER,
} from '@paved/plugin-paved-common';
import { eventually, useTestCluster } from '@paved/test-cluster';
import { SWRConfig } from 'swr';
import { Suspense } from 'react';
import { PavedApi, pavedApiRef } from '../api';
import {
  AppAuditCard,
  AppDeploymentContent,
  AppOverviewCard,
} from './AppDeploymentContent';
import { EventsCard } from './EventsCard';
import { LogsCard } from './LogsCard';
import {
  BOB,
  PavedStack,
  TEAM_A,
  startPavedStack,
} from '../__testUtils__/pavedStack';

jest.setTimeout(180_000);

const TENANT = 'team-a';
const IMAGE = 'ghcr.io/acme/hello:1.0';

// A Jest helper (beforeAll/afterAll), not a React hook.
// eslint-disable-next-line react-hooks/rules-of-hooks
const cluster = useTestCluster({
  knative: false,
  capsule: false,
  cilium: false,
});

let paved: PavedStack;
let api: PavedApi;

/** What the operator writes once a Knative revision serves. */
function readyStatus(app: string, revision: number) {
  const name = `${app}-${String(revision).padStart(5, '0')}`;
  return {
    phase: 'Ready',
    url: `http://${app}.tenant-${TENANT}.example.com`,
    latestCreatedRevision: name,
    latestReadyRevision: name,
    instances: { desired: 1, ready: 1 },
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Ready',
        message: 'The app is serving',
        lastTransitionTime: '2026-11-21T10:05:00Z',
      },
    ],
  };
}

/** An app at revision 2 (a deploy, then a secret env var added). */
async function deployHello(name: string) {
  await paved.client().deployApp(TENANT, name, {
    image: IMAGE,
    env: [{ name: 'TARGET', value: 'Paved' }],
  });
  const app = await paved.client().patchEnv(TENANT, name, {
    set: [{ name: 'API_KEY', value: 'hunter2', secret: true }],
  });
  if (app.revision !== 2) {
    throw new Error(`Expected revision 2 of ${name}, got ${app.revision}`);
  }
  return app;
}

/** Waits until the backend answers the app with the status the operator wrote. */
async function backendShows(name: string, phase: string) {
  await eventually(`${name} ${phase} in the API`, async () => {
    const app = await paved.client().getApp(TENANT, name);
    return app.status.known && app.status.phase === phase && app;
  });
}

beforeAll(async () => {
  paved = await startPavedStack({ cluster: cluster() });
  // The client as the plugin makes it: the UI's changes are recorded as such.
  api = paved.uiClient();
  await paved.client().createTenant({
    name: TENANT,
    displayName: 'Team A',
    owner: TEAM_A,
    plan: 'starter',
  });
  await paved.operator.createNamespace(TENANT);

  await deployHello('hello');
  await paved.operator.writeAppStatus(
    TENANT,
    'hello',
    readyStatus('hello', 2),
    2,
  );
  await backendShows('hello', 'Ready');

  await paved.client().deployApp(TENANT, 'broken', { image: IMAGE });
  await paved.operator.writeAppStatus(TENANT, 'broken', {
    phase: 'Failed',
    message:
      'The image ghcr.io/acme/hello:1.0 could not be pulled: not found. Check the image name and tag.',
  });
  await backendShows('broken', 'Failed');
});

afterAll(async () => {
  await paved?.stop();
});

const entity = (app: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: `${TENANT}-${app}`,
    annotations: { 'paved.dev/app': `${TENANT}/${app}` },
  },
  spec: {
    type: 'service',
    owner: TEAM_A,
    lifecycle: 'production',
  },
});

/**
 * Renders only once the user's permission decisions on the tenant have
 * arrived, with what they were: a positive sign that the components that
 * ask the same (the same SWR keys, answered in the same render) have them.
 */
function Decided() {
  const update = usePermission({
    permission: appUpdatePermission,
    resourceRef: TENANT,
  });
  const remove = usePermission({
    permission: appDeletePermission,
    resourceRef: TENANT,
  });
  if (update.loading || remove.loading) return null;
  const word = (allowed: boolean) => (allowed ? 'allowed' : 'denied');
  return (
    <span data-testid="decided">
      update {word(update.allowed)}, delete {word(remove.allowed)}
    </span>
  );
}

function render(
  allow: boolean,
  target: Entity,
  client: PavedApi = api,
  content: JSX.Element = <AppDeploymentContent />,
) {
  return renderInTestApp(
    // usePermission caches decisions in SWR's global cache; a fresh cache per
    // test keeps one test's ALLOW from answering the next test's DENY. The
    // Suspense inside it keeps that cache mounted while something below
    // suspends: renderInTestApp (frontend-test-utils 1.0) wraps the element
    // in a Suspense of its own, whose hiding would unmount SWR's cache and
    // fail every later usePermission ("undefined is not iterable").
    <SWRConfig value={{ provider: () => new Map() }}>
      <Suspense fallback={null}>
        <EntityProvider entity={target}>
          {content}
          <Decided />
        </EntityProvider>
      </Suspense>
    </SWRConfig>,
    {
      apis: [
        [pavedApiRef, client],
        mockApis.permission({
          authorize: allow ? AuthorizeResult.ALLOW : AuthorizeResult.DENY,
        }),
      ],
    },
  );
}

describe('AppDeploymentContent', () => {
  it('shows phase, URL, instances, revision and conditions of a ready app', async () => {
    await render(true, entity('hello'));
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
    await render(true, entity('broken'));
    expect(
      await screen.findByText(/could not be pulled: not found/),
    ).toBeInTheDocument();
    expect(screen.getByText('not assigned yet')).toBeInTheDocument();
  });

  it('shows the saved config with status unknown when the cluster has not reported', async () => {
    // A backend with no cluster: it has the config, and no status.
    const offline = await startPavedStack();
    try {
      await offline.client().createTenant({
        name: TENANT,
        displayName: 'Team A',
        owner: TEAM_A,
      });
      await offline.client().deployApp(TENANT, 'hello', { image: IMAGE });
      await render(true, entity('hello'), offline.client());
      expect(await screen.findByText(/Status unknown/)).toBeInTheDocument();
      expect(screen.getByText('Unknown')).toBeInTheDocument();
      expect(screen.getAllByText(IMAGE).length).toBeGreaterThan(0);
    } finally {
      await offline.stop();
    }
  });

  it('masks secret env values', async () => {
    await render(true, entity('hello'));
    const table = await screen.findByRole('table', {
      name: 'environment variables',
    });
    expect(within(table).getByText('TARGET')).toBeInTheDocument();
    expect(within(table).getByText(/\*{8} \(secret\)/)).toBeInTheDocument();
    expect(table).not.toHaveTextContent('hunter2');
  });

  it('offers no owner actions to a user without permission', async () => {
    await render(false, entity('hello'));
    await screen.findByTestId('paved-url');
    // The decisions have arrived (and were denials) before anything is
    // asserted absent: absent buttons alone would also pass while the
    // components were still waiting for them.
    expect(await screen.findByTestId('decided')).toHaveTextContent(
      'update denied, delete denied',
    );
    expect(screen.getByText('TARGET')).toBeInTheDocument();
    expect(screen.queryByText('Pause')).not.toBeInTheDocument();
    expect(screen.queryByText('Redeploy')).not.toBeInTheDocument();
    expect(screen.queryByText('Delete')).not.toBeInTheDocument();
    expect(screen.queryByText('Roll back')).not.toBeInTheDocument();
    expect(screen.queryByLabelText('remove TARGET')).not.toBeInTheDocument();
    // No domain form either.
    expect(
      screen.getByRole('table', { name: 'custom domains' }),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Add' }),
    ).not.toBeInTheDocument();
  });

  it('pauses and resumes for an owner, and the phase follows', async () => {
    const app = await deployHello('pausable');
    await paved.operator.writeAppStatus(
      TENANT,
      'pausable',
      readyStatus('pausable', app.revision),
      app.revision,
    );
    await backendShows('pausable', 'Ready');
    await render(true, entity('pausable'));
    expect(await screen.findByTestId('decided')).toHaveTextContent(
      'update allowed, delete allowed',
    );

    fireEvent.click(await screen.findByRole('button', { name: 'Pause' }));
    // The backend applies the pause; the operator scales to zero and says so.
    await paved.operator.appSpecWhen(TENANT, 'pausable', 'paused', spec =>
      Boolean(spec.paused),
    );
    await paved.operator.writeAppStatus(
      TENANT,
      'pausable',
      { phase: 'Paused', instances: { desired: 0, ready: 0 } },
      (
        await api.getApp(TENANT, 'pausable')
      ).sync.generation,
    );
    expect(
      await screen.findByText(
        'Paused',
        { selector: '[data-testid="paved-phase"] *' },
        { timeout: 15_000 },
      ),
    ).toBeInTheDocument();

    fireEvent.click(await screen.findByRole('button', { name: 'Resume' }));
    await paved.operator.appSpecWhen(
      TENANT,
      'pausable',
      'resumed',
      spec => !spec.paused,
    );
    await paved.operator.writeAppStatus(
      TENANT,
      'pausable',
      readyStatus('pausable', app.revision),
      (
        await api.getApp(TENANT, 'pausable')
      ).sync.generation,
    );
    expect(
      await screen.findByText(
        'Ready',
        { selector: '[data-testid="paved-phase"] *' },
        { timeout: 15_000 },
      ),
    ).toBeInTheDocument();

    const audit = await api.listAudit(TENANT, 'pausable');
    expect(
      audit.items
        .filter(e => e.action === 'app.pause' || e.action === 'app.resume')
        .map(e => `${e.action} by ${e.actor}`)
        .sort(),
    ).toEqual([
      'app.pause by user:default/alice',
      'app.resume by user:default/alice',
    ]);
  });

  it('deletes only after the app name is typed', async () => {
    await paved.client().deployApp(TENANT, 'doomed', { image: IMAGE });
    await render(true, entity('doomed'));
    fireEvent.click(await screen.findByRole('button', { name: 'Delete' }));
    const dialog = await screen.findByRole('dialog');
    const confirm = within(dialog).getByRole('button', { name: 'Delete' });
    expect(confirm).toBeDisabled();
    fireEvent.change(within(dialog).getByLabelText('App name'), {
      target: { value: 'doomed' },
    });
    // Not before: the app is still there with the name half typed.
    expect((await api.getApp(TENANT, 'doomed')).name).toBe('doomed');
    await act(async () => {
      fireEvent.click(confirm);
    });
    await waitFor(
      async () => {
        const audit = await api.listAudit(TENANT);
        expect(
          audit.items.filter(e => e.app === 'doomed').map(e => e.action),
        ).toContain('app.delete');
      },
      { timeout: 15_000 },
    );
  });

  it('follows the logs live, and holds new lines back while paused', async () => {
    await paved.client().deployApp(TENANT, 'logged', { image: IMAGE });
    await render(true, entity('logged'));
    const view = await screen.findByTestId('paved-logs-view');
    // No pod runs yet: the backend says so in the stream.
    await waitFor(
      () =>
        expect(view).toHaveTextContent(
          'No instance of logged is running: it is scaled to zero',
        ),
      { timeout: 15_000 },
    );
    expect(screen.getByTestId('paved-logs-status')).toHaveTextContent(
      'Following live',
    );

    fireEvent.click(screen.getByRole('button', { name: 'Pause following' }));
    const pod = 'logged-00001-deployment-5d8f7-x2x4k';
    await paved.operator.startInstance(TENANT, 'logged', 'logged-00001', pod);
    // No node runs the pod, so the backend cannot read its log and says so.
    const started = `Could not read the log of ${pod} (${APP_CONTAINER})`;
    // The stream has told of the new instance (the backend looks every
    // 2 s); paused, the view holds that back and counts it.
    await waitFor(
      () =>
        expect(screen.getByTestId('paved-logs-status')).toHaveTextContent(
          /^Paused: [1-9]\d* new lines? held back/,
        ),
      { timeout: 15_000 },
    );
    expect(view).not.toHaveTextContent(started);

    fireEvent.click(screen.getByRole('button', { name: 'Resume following' }));
    await waitFor(() => expect(view).toHaveTextContent(started));
    expect(screen.getByTestId('paved-logs-status')).toHaveTextContent(
      'Following live',
    );

    // Knative's queue-proxy is left out unless asked for.
    expect(view).not.toHaveTextContent(`(${SYSTEM_CONTAINER})`);

    // Following again: what happens next shows as it happens.
    await paved.operator.stopInstance(TENANT, pod);
    await waitFor(
      () => expect(view).toHaveTextContent(`Instance ${pod} stopped`),
      { timeout: 15_000 },
    );
  });

  it("says why the logs cannot be read, in the server's words", async () => {
    const app = await api.getApp(TENANT, 'hello');
    // Bob is not in team-a: to him the tenant is missing, logs and all.
    await render(
      true,
      entity('hello'),
      paved.uiClient(BOB),
      <LogsCard app={app} />,
    );
    expect(
      await screen.findByText(
        /The logs could not be read: Tenant team-a not found/,
        undefined,
        {
          timeout: 15_000,
        },
      ),
    ).toBeInTheDocument();
    expect(screen.getByTestId('paved-logs-status')).toHaveTextContent(
      'Not following',
    );
  });

  it('links the advice for a failed app to its logs', async () => {
    await render(true, entity('broken'));
    await screen.findByText(/could not be pulled: not found/);
    const link = screen.getByTestId('paved-logs-link');
    expect(link).toHaveTextContent('Show the logs');
    expect(link).toHaveAttribute('href', '/#paved-logs');
    expect(document.getElementById('paved-logs')).toBeInTheDocument();
  });

  it("includes the queue-proxy's lines when asked, in a new stream", async () => {
    await paved.client().deployApp(TENANT, 'proxied', { image: IMAGE });
    const pod = 'proxied-00001-deployment-6c9f8-q7w2e';
    await paved.operator.startInstance(TENANT, 'proxied', 'proxied-00001', pod);
    await render(true, entity('proxied'));
    const view = await screen.findByTestId('paved-logs-view');
    const appLog = `Could not read the log of ${pod} (${APP_CONTAINER})`;
    const systemLog = `Could not read the log of ${pod} (${SYSTEM_CONTAINER})`;
    await waitFor(() => expect(view).toHaveTextContent(appLog));
    expect(view).not.toHaveTextContent(systemLog);
    fireEvent.click(
      screen.getByLabelText(`Include system lines (${SYSTEM_CONTAINER})`),
    );
    await waitFor(() => expect(view).toHaveTextContent(systemLog));
    expect(screen.getByTestId('paved-logs-status')).toHaveTextContent(
      'Following live',
    );
  });

  it("links the overview card's advice to the logs on the Deployment tab", async () => {
    const path = `/catalog/default/component/${TENANT}-broken`;
    await renderInTestApp(
      <EntityProvider entity={entity('broken')}>
        <AppOverviewCard />
      </EntityProvider>,
      {
        apis: [[pavedApiRef, api]],
        initialRouteEntries: [path],
      },
    );
    expect(await screen.findByTestId('paved-logs-link')).toHaveAttribute(
      'href',
      `${path}/deployment#paved-logs`,
    );
  });

  it("lists the app's events, newest first, a page at a time", async () => {
    const app = await api.getApp(TENANT, 'hello');
    await render(
      true,
      entity('hello'),
      api,
      <EventsCard app={app} pageSize={1} />,
    );
    // Paved's own changes are events of the app: the env change (revision
    // 2) is newer than the deploy.
    const table = await screen.findByRole('table');
    await waitFor(() => expect(table).toHaveTextContent('app.patch-env'));
    expect(table).not.toHaveTextContent('app.deploy');
    fireEvent.click(screen.getByRole('button', { name: 'Load older events' }));
    await waitFor(() => expect(table).toHaveTextContent('app.deploy'));
    const text = table.textContent ?? '';
    expect(text.indexOf('app.patch-env')).toBeLessThan(
      text.indexOf('app.deploy'),
    );
  });

  it("shows the app's history: who, what, when and where from, a page at a time", async () => {
    await paved.client().deployApp(TENANT, 'audited', { image: IMAGE });
    // A change through the UI's client.
    await api.patchEnv(TENANT, 'audited', {
      set: [{ name: 'MODE', value: 'fast' }],
    });
    const app = await api.getApp(TENANT, 'audited');
    await render(
      true,
      entity('audited'),
      api,
      <AppAuditCard app={app} pageSize={1} />,
    );
    const table = await screen.findByRole('table');
    await waitFor(() => expect(table).toHaveTextContent('app.patch-env'));
    expect(table).toHaveTextContent('user:default/alice');
    expect(table).toHaveTextContent('set: MODE');
    expect(
      screen.getAllByTestId('paved-audit-via').map(c => c.textContent),
    ).toEqual(['ui']);
    fireEvent.click(screen.getByRole('button', { name: 'Load older entries' }));
    await waitFor(() => expect(table).toHaveTextContent('app.deploy'));
    // The deploy came through a plain API client: no x-paved-client header.
    expect(
      screen.getAllByTestId('paved-audit-via').map(c => c.textContent),
    ).toEqual(['ui', 'api']);
    expect(
      screen.queryByRole('button', { name: 'Load older entries' }),
    ).not.toBeInTheDocument();
  });

  it('adds a custom domain for an owner, shows its state, and removes it', async () => {
    await paved.client().deployApp(TENANT, 'domained', { image: IMAGE });
    // Collects what the page posts to Backstage's toast API.
    const toastApi = mockApis.toast();
    await renderInTestApp(
      <SWRConfig value={{ provider: () => new Map() }}>
        <Suspense fallback={null}>
          <EntityProvider entity={entity('domained')}>
            <AppDeploymentContent />
          </EntityProvider>
        </Suspense>
      </SWRConfig>,
      {
        apis: [
          [pavedApiRef, api],
          mockApis.permission({ authorize: AuthorizeResult.ALLOW }),
          toastApi,
        ],
      },
    );
    const table = await screen.findByRole('table', { name: 'custom domains' });
    expect(table).toHaveTextContent('No custom domains');

    // A certificate that is no PEM: refused in the server's words, and
    // the pasted text stays in the form to fix.
    fireEvent.change(screen.getByLabelText('Domain'), {
      target: { value: 'www.domained.example' },
    });
    fireEvent.click(screen.getByLabelText('HTTPS with my certificate'));
    fireEvent.change(screen.getByLabelText(/^Certificate/), {
      target: { value: 'not a certificate' },
    });
    fireEvent.change(screen.getByLabelText(/^Private key/), {
      target: { value: 'not a key' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Add' }));
    const refused = await waitFor(
      () => {
        const toast = toastApi.getToasts().find(t => t.status === 'danger');
        expect(toast).toBeDefined();
        return toast!;
      },
      { timeout: 15_000 },
    );
    expect(refused.title).toBe('Add www.domained.example failed');
    // The server's reason, not the HTTP status.
    expect(String(refused.description)).toMatch(/\S/);
    expect(String(refused.description)).not.toMatch(/Request failed with/);
    expect(screen.getByLabelText(/^Certificate/)).toHaveValue(
      'not a certificate',
    );
    expect((await api.getApp(TENANT, 'domained')).domains).toEqual([]);

    // HTTP only: claimed for the tenant, waiting for the cluster's word.
    fireEvent.click(screen.getByLabelText('HTTPS with my certificate'));
    fireEvent.click(screen.getByRole('button', { name: 'Add' }));
    const row = await screen.findByTestId(
      'paved-domain-www.domained.example',
      undefined,
      { timeout: 15_000 },
    );
    expect(row).toHaveTextContent('HTTP only');
    expect((await api.getApp(TENANT, 'domained')).domains).toEqual([
      'www.domained.example',
    ]);

    fireEvent.click(
      within(row).getByRole('button', { name: 'remove www.domained.example' }),
    );
    await waitFor(() => expect(table).toHaveTextContent('No custom domains'), {
      timeout: 15_000,
    });
    expect((await api.getApp(TENANT, 'domained')).domains).toEqual([]);
  });

  it('explains a component without the annotation', async () => {
    const plain = { ...entity('hello'), metadata: { name: 'plain' } };
    await render(true, plain);
    expect(await screen.findByText('Not a Paved app')).toBeInTheDocument();
  });
});
