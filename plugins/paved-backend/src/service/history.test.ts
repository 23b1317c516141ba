/**
 * The audit log as the API pages it, where each change came from (`via`),
 * the history a deleted tenant leaves, and an app's events merged from the
 * cluster's Events and Paved's own entries — on SQLite and PostgreSQL,
 * against a real kube-apiserver (so a deleted tenant's CR goes and its
 * rows are purged, as in production; no operator or node runs here, the
 * pod Events are written as the kubelet would; logs.test.ts reads the
 * events of a real pod).
 */
import { mockCredentials } from '@backstage/backend-test-utils';
import {
  AuditEntryView,
  PAVED_CLIENT_HEADER,
} from '@paved/plugin-paved-common';
import { EVENTS, KubeClient, NAMESPACES } from '@paved/kube';
import { eventually, useTestCluster } from '@paved/test-cluster';
import { pavedTestDatabases } from '../__testUtils__/databases';
import { actorOf, noteClient } from '../services/context';
import {
  ALICE,
  BOB,
  PavedTestBackend,
  TEAM_A,
  startPavedBackend,
} from '../testUtils/backend';
import {
  FinalizerStandIn,
  startFinalizerStandIn,
} from '../testUtils/finalizerStandIn';

jest.setTimeout(180_000);

const cluster = useTestCluster({
  knative: false,
  capsule: false,
  cilium: false,
});
const databases = pavedTestDatabases();

describe('where a change came from', () => {
  it('is the client a request names, else token for a service and api for a user', () => {
    const user = mockCredentials.user(ALICE);
    const service = mockCredentials.service('ci-pipeline');
    expect(actorOf(user).via).toBe('api');
    expect(actorOf(service)).toEqual({
      ref: 'service:ci-pipeline',
      principalType: 'service',
      via: 'token',
    });
    const fromCli = mockCredentials.user(ALICE);
    noteClient(fromCli, 'cli');
    expect(actorOf(fromCli).via).toBe('cli');
    expect(() => noteClient(mockCredentials.user(ALICE), 'robot')).toThrow(
      'Invalid x-paved-client header "robot": say ui, template, cli, or leave it out',
    );
  });
});

describe.each(databases.eachSupportedId())('history on %s', id => {
  const suffix = id === 'SQLITE_3' ? 's' : 'p';
  const tenant = `hist-${suffix}`;
  let backend: PavedTestBackend;
  let admin: KubeClient;
  let finalizers: FinalizerStandIn | undefined;

  beforeAll(async () => {
    admin = await KubeClient.fromKubeConfig(cluster().kubeConfig);
    // No operator runs here: deleted CRs lose its finalizer.
    finalizers = await startFinalizerStandIn(admin);
    backend = await startPavedBackend({
      knex: await databases.init(id),
      config: {
        paved: { kubernetes: { kubeconfig: cluster().kubeconfigPath } },
      },
    });
  });
  afterAll(async () => {
    await finalizers?.stop();
    await backend?.stop();
    admin?.close();
  });

  const api = () => backend.request;
  const get = (path: string, user = ALICE) =>
    api().get(`/api/paved${path}`).set('authorization', backend.as(user));
  const createTenant = (name: string, client?: string) => {
    const req = api()
      .post('/api/paved/tenants')
      .set('authorization', backend.as(ALICE));
    if (client) req.set(PAVED_CLIENT_HEADER, client);
    return req.send({ name, displayName: name, owner: TEAM_A });
  };
  /** Every entry of an audit route, page by page of `limit`. */
  async function allPages(path: string, limit: number, user = ALICE) {
    const entries: AuditEntryView[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await get(
        `${path}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
        user,
      );
      if (res.status !== 200) {
        throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
      }
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      entries.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    return { entries, pages };
  }

  it('pages the audit log newest first, and says which client each change came through', async () => {
    expect((await createTenant(tenant, 'ui')).status).toBe(201);
    const deploy = await api()
      .put(`/api/paved/tenants/${tenant}/apps/web`)
      .set('authorization', backend.as(ALICE))
      .set(PAVED_CLIENT_HEADER, 'cli')
      .send({ image: 'registry.localhost/web:1', port: 8080 });
    expect(deploy.status).toBe(201);
    for (const value of ['1', '2', '3', '4']) {
      const patched = await api()
        .patch(`/api/paved/tenants/${tenant}/apps/web/env`)
        .set('authorization', backend.as(ALICE))
        .set(PAVED_CLIENT_HEADER, 'template')
        .send({ set: [{ name: 'N', value }] });
      expect(patched.status).toBe(200);
    }
    await api()
      .put(`/api/paved/tenants/${tenant}/apps/api`)
      .set('authorization', backend.as(ALICE))
      .send({ image: 'registry.localhost/api:1', port: 8080 });

    const whole = await get(`/tenants/${tenant}/audit?limit=200`);
    expect(whole.body.nextCursor).toBeUndefined();
    expect(whole.body.items.map((e: AuditEntryView) => e.action)).toEqual([
      'app.deploy',
      'app.patch-env',
      'app.patch-env',
      'app.patch-env',
      'app.patch-env',
      'app.deploy',
      'tenant.create',
    ]);
    expect(whole.body.items.map((e: AuditEntryView) => e.via)).toEqual([
      'api',
      'template',
      'template',
      'template',
      'template',
      'cli',
      'ui',
    ]);
    const paged = await allPages(`/tenants/${tenant}/audit`, 2);
    expect(paged.pages).toBe(4);
    expect(paged.entries).toEqual(whole.body.items);

    const app = await allPages(`/tenants/${tenant}/apps/web/audit`, 3);
    expect(app.entries.map(e => e.action)).toEqual([
      'app.patch-env',
      'app.patch-env',
      'app.patch-env',
      'app.patch-env',
      'app.deploy',
    ]);
    expect(new Set(app.entries.map(e => e.app))).toEqual(new Set(['web']));
  });

  it('refuses a client header it does not know, and changes nothing', async () => {
    const res = await createTenant(`nohdr-${suffix}`, 'robot');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(
      'Invalid x-paved-client header "robot"',
    );
    expect((await get(`/tenants/nohdr-${suffix}`)).status).toBe(404);
  });

  it('refuses bad paging parameters with what to send instead', async () => {
    for (const [query, says] of [
      ['limit=0', 'limit must be between 1 and 200'],
      ['limit=201', 'limit must be between 1 and 200'],
      ['limit=two', 'limit must be a whole number'],
      ['limit=1&limit=2', 'limit must be given once'],
      ['cursor=%2F..%2F', 'cursor must be the nextCursor of a previous answer'],
      ['cursor=abc', 'cursor must be the nextCursor of a previous answer'],
      ['page=2', 'Unknown query parameter "page"'],
    ]) {
      const res = await get(`/tenants/${tenant}/audit?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.body.error.message).toContain(says);
    }
    const events = await get(`/tenants/${tenant}/apps/web/events?cursor=abc`);
    expect(events.status).toBe(400);
  });

  it("merges the app's Kubernetes Events and Paved's entries, newest first, paged, and leaves out another app's", async () => {
    const namespace = `tenant-${tenant}`;
    await admin
      .create(NAMESPACES, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespace },
      })
      .catch(() => undefined);
    // What the kubelet writes for an instance of web, and of another app
    // whose name starts like it.
    // Event times have whole seconds: the next one, so these are newer
    // than the entries Paved has written.
    const at = new Date(
      Math.ceil(Date.now() / 1000) * 1000 + 1000,
    ).toISOString();
    for (const [name, pod] of [
      ['web-started', 'web-00001-deployment-5d9c8-x7k2p'],
      ['webapi-started', 'web-api-00001-deployment-6f7b9-q2w3e'],
      ['web-revision', 'web-00001'],
    ]) {
      await admin.create(EVENTS, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          kind: pod === 'web-00001' ? 'Revision' : 'Pod',
          name: pod,
          namespace,
        },
        reason: pod === 'web-00001' ? 'RevisionReady' : 'Started',
        message: `Started container user-container (${name})`,
        type: 'Normal',
        count: 2,
        firstTimestamp: at,
        lastTimestamp: at,
        source: { component: 'kubelet' },
      });
    }
    const events: any[] = [];
    let cursor: string | undefined;
    do {
      const res = await get(
        `/tenants/${tenant}/apps/web/events?limit=2${
          cursor ? `&cursor=${cursor}` : ''
        }`,
      );
      expect(res.status).toBe(200);
      events.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(events.filter(e => e.source === 'paved')).toHaveLength(5);
    const kubernetes = events.filter(e => e.source === 'kubernetes');
    expect(kubernetes).toHaveLength(2);
    expect(kubernetes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          object: { kind: 'Pod', name: 'web-00001-deployment-5d9c8-x7k2p' },
          reason: 'Started',
          count: 2,
        }),
        expect.objectContaining({
          object: { kind: 'Revision', name: 'web-00001' },
          reason: 'RevisionReady',
        }),
      ]),
    );
    const times = events.map(e => Date.parse(e.time));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(events[events.length - 1]).toMatchObject({
      source: 'paved',
      reason: 'app.deploy',
      actor: ALICE,
      message: expect.stringContaining('via cli'),
    });
  });

  it("keeps a deleted tenant's history for its owners, and a new tenant of the same name starts empty", async () => {
    const before = (await get(`/tenants/${tenant}/audit?limit=200`)).body.items;
    const deleted = await api()
      .delete(`/api/paved/tenants/${tenant}`)
      .set('authorization', backend.as(ALICE));
    expect(deleted.status).toBe(202);
    const listed = await eventually(
      'the tenant purged and listed',
      async () => {
        const res = await get('/history/tenants');
        return res.body.items.find((t: any) => t.name === tenant);
      },
    );
    expect(listed).toMatchObject({
      name: tenant,
      owner: TEAM_A,
      uid: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const history = await allPages(`/history/tenants/${listed.uid}/audit`, 3);
    expect(history.entries[0]).toMatchObject({
      action: 'tenant.delete',
      actor: ALICE,
    });
    expect(history.entries.slice(1)).toEqual(before);

    // Another team: not listed, and its audit answers as for no tenant.
    const bobs = await get('/history/tenants', BOB);
    expect(bobs.body.items.map((t: any) => t.uid)).not.toContain(listed.uid);
    const notYours = await get(`/history/tenants/${listed.uid}/audit`, BOB);
    const none = await get(
      '/history/tenants/00000000-0000-4000-8000-000000000000/audit',
      BOB,
    );
    expect(notYours.status).toBe(404);
    expect(none.status).toBe(404);
    expect(notYours.body.error.message).toBe(
      none.body.error.message.replace(
        '00000000-0000-4000-8000-000000000000',
        listed.uid,
      ),
    );

    // The same name again: a new tenant with a history of its own.
    expect((await createTenant(tenant)).status).toBe(201);
    const fresh = await get(`/tenants/${tenant}/audit`);
    expect(fresh.body.items.map((e: AuditEntryView) => e.action)).toEqual([
      'tenant.create',
    ]);
  });
});
