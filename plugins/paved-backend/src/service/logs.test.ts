/**
 * Logs and events of a real app: the backend, the operator (in-process) and
 * a real data plane (a node running the example app's container under
 * Knative Serving, behind Traefik). The lines the app prints for requests
 * sent through the ingress come back in the API's log stream; the events
 * are the kubelet's, Knative's and Paved's own.
 */
import { mockCredentials, TestDatabases } from '@backstage/backend-test-utils';
import {
  AppEvent,
  LogLine,
  LogStreamEvent,
  PavedApiClient,
  APP_CONTAINER,
  SYSTEM_CONTAINER,
  apiErrorMessage,
  apiErrorStatus,
  logLineSchema,
} from '@paved/plugin-paved-common';
import { KubeClient, PODS } from '@paved/kube';
import { Operator } from '@paved/operator';
import {
  EXAMPLE_APP_IMAGE,
  eventually,
  requestThroughIngress,
  useDataPlaneCluster,
} from '@paved/test-cluster';
import {
  ALICE,
  BOB,
  PavedTestBackend,
  TEAM_A,
  startPavedBackend,
} from '../testUtils/backend';

jest.setTimeout(300_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('logs and events of a real app', () => {
  // Idle instances go within seconds, so the scale-to-zero case is short.
  const cluster = useDataPlaneCluster();
  let operator: Operator;
  let backend: PavedTestBackend;
  let kube: KubeClient;
  let alice: PavedApiClient;
  let bob: PavedApiClient;
  let url: string;

  const clientOf = (user: string) =>
    new PavedApiClient({
      baseUrl: `http://127.0.0.1:${backend.server.address().port}/api/paved`,
      token: mockCredentials.user.token(user),
      client: 'cli',
    });

  /** Follows the log until `until` holds for the events so far (or the time is up). */
  async function follow(
    client: PavedApiClient,
    query: Parameters<PavedApiClient['streamLogs']>[2],
    until: (events: LogStreamEvent[]) => boolean,
    afterOpen?: () => Promise<void>,
    timeoutMs = 90_000,
  ): Promise<LogStreamEvent[]> {
    const events: LogStreamEvent[] = [];
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), timeoutMs);
    let done = false;
    const streamed = client.streamLogs('logs', 'web', query, {
      signal: stop.signal,
      onEvent: event => {
        events.push(event);
        if (!done && until(events)) {
          done = true;
          stop.abort();
        }
      },
    });
    await afterOpen?.();
    await streamed;
    clearTimeout(timer);
    if (!done) {
      throw new Error(
        `the stream did not show what was awaited in ${timeoutMs} ms; it had:\n${JSON.stringify(
          events,
          null,
          1,
        )}`,
      );
    }
    return events;
  }
  /** The lines of a stream, each checked against the API's LogLine schema (what openapi.json gives). */
  const lines = (events: LogStreamEvent[]): LogLine[] =>
    events.flatMap(e =>
      e.type === 'line' ? [logLineSchema.parse(e.line)] : [],
    );
  /**
   * Sends GET `path` to the app, which answers 404 and logs
   * `GET <path> 404 <duration>`. A GET / first (retried until it answers
   * 200) makes sure the route is up and an instance awake, since the
   * ingress's own 404 would look the same.
   */
  const probe = async (path: string) => {
    const dataPlane = cluster().dataPlane!;
    await requestThroughIngress(dataPlane, `${url}/`, { timeoutMs: 90_000 });
    return requestThroughIngress(dataPlane, `${url}${path}`, {
      retry: false,
      timeoutMs: 30_000,
    });
  };

  beforeAll(async () => {
    kube = await KubeClient.fromKubeConfig(cluster().kubeConfig);
    operator = await Operator.create({
      kubeConfig: cluster().kubeConfig,
      concurrency: 4,
      pollMs: 200,
    });
    await operator.start();
    backend = await startPavedBackend({
      knex: await databases.init('SQLITE_3'),
      config: {
        paved: { kubernetes: { kubeconfig: cluster().kubeconfigPath } },
      },
    });
    alice = clientOf(ALICE);
    bob = clientOf(BOB);
    await alice.createTenant({
      name: 'logs',
      displayName: 'Logs',
      owner: TEAM_A,
    });
    await alice.deployApp('logs', 'web', {
      image: EXAMPLE_APP_IMAGE,
      port: 8080,
    });
    const ready = await eventually(
      'app web Ready',
      async () => {
        const app = await alice.getApp('logs', 'web');
        return app.status.phase === 'Ready' && app.status.url ? app : false;
      },
      180_000,
    );
    url = ready.status.url!;
  }, 240_000);

  afterAll(async () => {
    await backend?.stop();
    await operator?.stop();
    kube?.close();
  }, 60_000);

  it('streams the lines the app prints as it prints them, labelled with instance and revision, without the queue-proxy', async () => {
    const path = `/log-probe-${Date.now()}`;
    let sentAt = 0;
    let seenAt = 0;
    const events = await follow(
      alice,
      { follow: true, tailLines: 1 },
      seen => {
        const found = lines(seen).some(l => l.text.includes(`GET ${path} `));
        if (found && !seenAt) seenAt = Date.now();
        return found;
      },
      async () => {
        // The stream opens and reads the instance's tail first.
        await new Promise(r => setTimeout(r, 1500));
        sentAt = Date.now();
        const answer = await probe(path);
        expect(answer.status).toBe(404);
      },
    );
    const line = lines(events).find(l => l.text.includes(`GET ${path} `))!;
    expect(line).toMatchObject({
      instance: expect.stringMatching(/^web-00001-deployment-/),
      revision: 'web-00001',
      container: APP_CONTAINER,
      text: expect.stringMatching(new RegExp(`^GET ${path} 404 `)),
    });
    expect(Date.parse(line.time)).toBeGreaterThan(sentAt - 60_000);
    expect(lines(events).every(l => l.container === APP_CONTAINER)).toBe(true);
    // eslint-disable-next-line no-console
    console.log(
      `log line latency (request sent → line seen in the API stream): ${
        seenAt - sentAt
      } ms`,
    );
  });

  it('without follow, sends the tail of every instance in time order, then ends; system=true adds the queue-proxy', async () => {
    await probe('/tail-a');
    await probe('/tail-b');
    const tail: LogStreamEvent[] = [];
    await alice.streamLogs(
      'logs',
      'web',
      { tailLines: 3 },
      { onEvent: e => tail.push(e) },
    );
    expect(tail[tail.length - 1]).toEqual({ type: 'end' });
    expect(
      lines(tail).map(l => l.text.split(' ').slice(0, 3).join(' ')),
    ).toEqual(['GET /tail-a 404', 'GET / 200', 'GET /tail-b 404']);
    const withSystem: LogStreamEvent[] = [];
    await alice.streamLogs(
      'logs',
      'web',
      { tailLines: 50, system: true },
      { onEvent: e => withSystem.push(e) },
    );
    const containers = new Set(lines(withSystem).map(l => l.container));
    expect([...containers].sort()).toEqual(
      [APP_CONTAINER, SYSTEM_CONTAINER].sort(),
    );
    const times = lines(withSystem).map(l => l.time);
    expect(times).toEqual([...times].sort());
  });

  it('answers another team as for an app that does not exist, and refuses bad queries naming the parameter', async () => {
    const notYours = await bob
      .streamLogs('logs', 'web', {}, { onEvent: () => {} })
      .catch(e => e);
    const missing = await bob
      .streamLogs('logs', 'nope', {}, { onEvent: () => {} })
      .catch(e => e);
    expect(apiErrorStatus(notYours)).toBe(404);
    expect(apiErrorStatus(missing)).toBe(404);
    expect(apiErrorMessage(notYours)).toBe(apiErrorMessage(missing));
    const base = `http://127.0.0.1:${
      backend.server.address().port
    }/api/paved/tenants/logs/apps/web/logs`;
    const auth = { authorization: backend.as(ALICE) };
    for (const [query, says] of [
      ['?follow=yes', 'follow must be true or false'],
      ['?tailLines=0', 'tailLines must be between 1 and 10000'],
      ['?tailLines=1&tailLines=2', 'tailLines must be given once'],
      ['?sinceSeconds=abc', 'sinceSeconds must be a whole number'],
      ['?lines=5', 'Unknown query parameter "lines"'],
    ]) {
      const res = await fetch(`${base}${query}`, { headers: auth });
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect((await res.json()).error.message).toContain(says);
    }
  });

  it("lists the app's events: the kubelet's and Knative's, and Paved's own, newest first, paged", async () => {
    const all: AppEvent[] = await eventually(
      'the pod and Paved events',
      async () => {
        const events: AppEvent[] = [];
        let cursor: string | undefined;
        do {
          const page = await alice.getAppEvents('logs', 'web', {
            limit: 3,
            cursor,
          });
          expect(page.items.length).toBeLessThanOrEqual(3);
          events.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor);
        const reasons = new Set(events.map(e => `${e.source}:${e.reason}`));
        return reasons.has('kubernetes:Started') &&
          reasons.has('paved:app.deploy')
          ? events
          : false;
      },
      60_000,
    );
    const times = all.map(e => Date.parse(e.time));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(new Set(all.map(e => JSON.stringify(e))).size).toBe(all.length);
    expect(all).toContainEqual(
      expect.objectContaining({
        source: 'kubernetes',
        reason: 'Started',
        object: {
          kind: 'Pod',
          name: expect.stringMatching(/^web-00001-deployment-/),
        },
      }),
    );
    // The operator's own: the App's phase changes, as Events on it.
    expect(all).toContainEqual(
      expect.objectContaining({
        source: 'paved',
        reason: 'Ready',
        message: expect.stringMatching(/→ Ready/),
        object: { kind: 'App', name: 'web' },
      }),
    );
    expect(all).toContainEqual(
      expect.objectContaining({
        source: 'paved',
        reason: 'app.deploy',
        actor: ALICE,
        object: { kind: 'App', name: 'web' },
      }),
    );
    // One page holds what the pages held (and what happened since).
    const whole = await alice.getAppEvents('logs', 'web', { limit: 200 });
    expect(whole.items).toEqual(expect.arrayContaining(all));
  });

  it('says when no instance runs, and picks up the instance a request wakes', async () => {
    await eventually(
      'scaled to zero',
      async () =>
        (
          await kube.list(PODS, {
            namespace: 'tenant-logs',
            labelSelector: 'serving.knative.dev/service=web',
          })
        ).items.length === 0,
      180_000,
    );
    const idle: LogStreamEvent[] = [];
    await alice.streamLogs('logs', 'web', {}, { onEvent: e => idle.push(e) });
    expect(idle).toEqual([
      {
        type: 'notice',
        message: expect.stringContaining('No instance of web is running'),
      },
      { type: 'end' },
    ]);
    const path = `/wake-${Date.now()}`;
    const events = await follow(
      alice,
      { follow: true },
      seen => lines(seen).some(l => l.text.includes(`GET ${path} `)),
      async () => {
        await new Promise(r => setTimeout(r, 1000));
        expect((await probe(path)).status).toBe(404);
      },
      120_000,
    );
    expect(events[0]).toMatchObject({
      type: 'notice',
      message: expect.stringContaining('lines appear when a request wakes it'),
    });
    expect(events).toContainEqual({
      type: 'notice',
      message: expect.stringMatching(
        /^Instance web-\d{5}-deployment-\S+ \(revision web-\d{5}\) started$/,
      ),
    });
  });
});
