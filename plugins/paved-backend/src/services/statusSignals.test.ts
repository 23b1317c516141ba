/**
 * Status changes reach the browser through Backstage signals: a real backend
 * with Paved and Backstage's own signals backend (its WebSocket endpoint),
 * a real kube-apiserver where the test writes the Tenant's and the App's
 * status as the operator would, and a WebSocket client subscribed as the
 * frontend's signals client is. Only the tenant's owner group and the
 * platform admins are told; another user on the same channels hears
 * nothing.
 *
 * Identity: Backstage's mock auth, whose only token that is a valid
 * WebSocket subprotocol (the signals client sends its token that way) is
 * the default mock user, `user:default/mock`. It is made a platform admin
 * in one backend and nothing in the other.
 */
import { mockCredentials } from '@backstage/backend-test-utils';
import { eventsServiceFactory } from '@backstage/plugin-events-node';
import signalsPlugin from '@backstage/plugin-signals-backend';
import {
  PavedStatusSignal,
  TENANTS_SIGNAL_CHANNEL,
  appSignalChannel,
  tenantSignalChannel,
} from '@paved/plugin-paved-common';
import { APPS, KubeClient, NAMESPACES, TENANTS } from '@paved/kube';
import { eventually, useTestCluster } from '@paved/test-cluster';
import WebSocket from 'ws';
import { pavedTestDatabases } from '../__testUtils__/databases';
import {
  ALICE,
  PLATFORM,
  PavedTestBackend,
  TEAM_A,
  startPavedBackend,
} from '../testUtils/backend';
import {
  FinalizerStandIn,
  startFinalizerStandIn,
} from '../testUtils/finalizerStandIn';

jest.setTimeout(120_000);

const MOCK_USER = 'user:default/mock';

const cluster = useTestCluster({
  knative: false,
  capsule: false,
  cilium: false,
});
const databases = pavedTestDatabases();

interface Received {
  channel: string;
  message: PavedStatusSignal;
  at: number;
}

/** A signals connection as the frontend's client makes it. */
async function connectSignals(
  backend: PavedTestBackend,
  channels: string[],
): Promise<{ received: Received[]; close(): void }> {
  const address = backend.server.address();
  const url = `ws://127.0.0.1:${address.port}/api/signals`;
  const token = mockCredentials.user.token();
  // The signals backend listens for upgrades only once a first one has
  // passed through its Express router, and that first request is never
  // answered; the browser's client gives up on it and reconnects. So does
  // this one, after a second.
  const socket = await eventually('the signals WebSocket', async () => {
    const ws = new WebSocket(url, token);
    const opened = await new Promise<boolean>(resolve => {
      const timer = setTimeout(() => resolve(false), 1000);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      ws.once('open', () => done(true));
      ws.once('error', () => done(false));
      ws.once('unexpected-response', () => done(false));
    });
    if (!opened) ws.terminate();
    return opened && ws;
  });
  const received: Received[] = [];
  socket.on('message', data => {
    const { channel, message } = JSON.parse(data.toString());
    received.push({ channel, message, at: Date.now() });
  });
  for (const channel of channels) {
    socket.send(JSON.stringify({ action: 'subscribe', channel }));
  }
  // Subscriptions are messages too: let them land before anything changes.
  await new Promise(r => setTimeout(r, 200));
  return { received, close: () => socket.close() };
}

/** When the test wrote each status, as the operator would. */
interface Written {
  tenant: number;
  app: number;
}

/**
 * A backend whose platform admins include the mock user (`admin`) or not;
 * `drive` creates the tenant and its app through the API and writes their
 * status in the cluster as the operator would (tenant Active, app
 * Deploying), with a signals client subscribed to every Paved channel of
 * the tenant.
 */
function signalsBackend(tenant: string, admin: boolean) {
  const channels = [
    TENANTS_SIGNAL_CHANNEL,
    tenantSignalChannel(tenant),
    appSignalChannel(tenant, 'web'),
  ];
  let backend: PavedTestBackend;
  let kube: KubeClient;
  let finalizers: FinalizerStandIn | undefined;

  beforeAll(async () => {
    kube = await KubeClient.fromKubeConfig(cluster().kubeConfig);
    finalizers = await startFinalizerStandIn(kube);
    backend = await startPavedBackend({
      knex: await databases.init('SQLITE_3'),
      config: {
        paved: {
          kubernetes: { kubeconfig: cluster().kubeconfigPath },
          permissions: { admins: admin ? [PLATFORM, MOCK_USER] : [PLATFORM] },
        },
        // One process: the events service's local bus, no events backend.
        events: { useEventBus: 'never' },
      },
      // Backstage's own events service: the test backend's default gives
      // each plugin a bus of its own, so Paved's signals would never reach
      // the signals plugin.
      features: [signalsPlugin, eventsServiceFactory],
    });
  });
  afterAll(async () => {
    await finalizers?.stop();
    await backend?.stop();
    kube?.close();
  });

  return async function drive(
    check: (received: Received[], written: Written) => Promise<void>,
  ): Promise<void> {
    const signals = await connectSignals(backend, channels);
    try {
      const as = { authorization: backend.as(ALICE) };
      await backend.request
        .post('/api/paved/tenants')
        .set(as)
        .send({ name: tenant, displayName: tenant, owner: TEAM_A })
        .expect(201);
      await eventually('the Tenant CR', () => kube.tryGet(TENANTS, tenant));

      // As the operator: the namespace, then Active.
      await kube.create(NAMESPACES, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: `tenant-${tenant}` },
      });
      const tenantWritten = Date.now();
      await kube.mergePatch(
        TENANTS,
        tenant,
        undefined,
        { status: { phase: 'Active', namespace: `tenant-${tenant}` } },
        'status',
      );
      await backend.request
        .put(`/api/paved/tenants/${tenant}/apps/web`)
        .set(as)
        .send({ image: 'registry.localhost/web:1', port: 8080 })
        .expect(201);
      await eventually('the App CR', () =>
        kube.tryGet(APPS, 'web', `tenant-${tenant}`),
      );
      const appWritten = Date.now();
      await kube.mergePatch(
        APPS,
        'web',
        `tenant-${tenant}`,
        { status: { phase: 'Deploying', message: 'Starting the app' } },
        'status',
      );
      await check(signals.received, { tenant: tenantWritten, app: appWritten });
    } finally {
      signals.close();
    }
  };
}

describe('signals to a platform admin', () => {
  const tenant = 'sig-admin';
  const drive = signalsBackend(tenant, true);

  it('tells of each status change within moments', async () => {
    await drive(async (received, written) => {
      // The first signal of a kind on a channel since a moment.
      const on = (channel: string, kind: string, since = 0) =>
        received.find(
          r =>
            r.channel === channel && r.message.kind === kind && r.at >= since,
        );
      await eventually('the app signal', () =>
        on(appSignalChannel(tenant, 'web'), 'app', written.app),
      );
      expect(on(TENANTS_SIGNAL_CHANNEL, 'tenant')?.message).toEqual({
        kind: 'tenant',
        tenant,
      });
      expect(on(tenantSignalChannel(tenant), 'app')?.message).toEqual({
        kind: 'app',
        tenant,
        app: 'web',
      });
      // Tenant Active and App Deploying, each written as the operator would.
      const tenantLatency =
        on(tenantSignalChannel(tenant), 'tenant', written.tenant)!.at -
        written.tenant;
      const appLatency =
        on(appSignalChannel(tenant, 'web'), 'app', written.app)!.at -
        written.app;
      // eslint-disable-next-line no-console
      console.log(
        `status written → signal received: tenant ${tenantLatency} ms, app ${appLatency} ms`,
      );
    });
  });
});

describe('signals to a user outside the owner group', () => {
  const drive = signalsBackend('sig-other', false);

  it('tells nothing', async () => {
    await drive(async received => {
      // Time for the same signals to have arrived, were they sent.
      await new Promise(r => setTimeout(r, 2000));
      expect(received).toEqual([]);
    });
  });
});
