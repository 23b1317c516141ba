/**
 * Every write of the API is an event of Backstage's auditor: which routes
 * are audited (each write route of the OpenAPI document), and, through a
 * real backend with Backstage's own auditor service (its events captured
 * where it writes them, the plugin logger's audit children) on SQLite and a
 * real kube-apiserver, that success and failure both arrive with the actor,
 * the target and the error.
 */
import {
  coreServices,
  createServiceFactory,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { openApiDocument } from '@paved/plugin-paved-common';
import { KubeClient } from '@paved/kube';
import { useTestCluster } from '@paved/test-cluster';
import { pavedTestDatabases } from '../__testUtils__/databases';
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
import { auditedWrite } from './audit';

jest.setTimeout(120_000);

describe('which writes are audited', () => {
  it('every write route of the OpenAPI document, with what it acts on', () => {
    const paths = openApiDocument().paths as Record<string, object>;
    const writes = Object.entries(paths).flatMap(([path, operations]) =>
      Object.keys(operations)
        .filter(m => ['post', 'put', 'patch', 'delete'].includes(m))
        .map(m => ({ method: m.toUpperCase(), path })),
    );
    expect(writes.length).toBeGreaterThanOrEqual(12);
    for (const { method, path } of writes) {
      const concrete = path
        .replace('{tenant}', 'team-a')
        .replace('{app}', 'web')
        .replace('{domain}', 'www.example.com');
      const write = auditedWrite(method, concrete);
      expect({ method, path, write }).toEqual({
        method,
        path,
        write: expect.objectContaining({
          eventId: expect.stringMatching(/^(tenant|app|domain)-mutate$/),
          meta: expect.objectContaining({ actionType: expect.any(String) }),
        }),
      });
      expect({
        tenant: write?.meta.tenant,
        app: write?.meta.app,
      }).toEqual({
        tenant: path.includes('{tenant}') ? 'team-a' : undefined,
        app: path.includes('{app}') ? 'web' : undefined,
      });
    }
  });

  it('names the action, decodes the names and clips long ones; other shapes are not writes', () => {
    expect(auditedWrite('DELETE', '/tenants/team-a')).toEqual({
      eventId: 'tenant-mutate',
      severityLevel: 'medium',
      meta: { actionType: 'delete', tenant: 'team-a' },
    });
    expect(auditedWrite('POST', '/tenants/t/apps/web/rollback')?.meta).toEqual({
      actionType: 'rollback',
      tenant: 't',
      app: 'web',
    });
    expect(auditedWrite('PUT', '/tenants/a%20b/apps/%E0%A4%A')?.meta).toEqual({
      actionType: 'deploy',
      tenant: 'a b',
      app: '%E0%A4%A',
    });
    const long = 'x'.repeat(5000);
    expect(auditedWrite('PATCH', `/tenants/${long}`)?.meta.tenant).toBe(
      `${'x'.repeat(64)}…`,
    );
    expect(auditedWrite('POST', '/tenants/t/apps/web/bogus')).toBeUndefined();
    expect(auditedWrite('GET', '/tenants')).toBeUndefined();
    expect(auditedWrite('POST', '/plans')).toBeUndefined();
    expect(auditedWrite('PUT', '/tenants/t/apps/web/domains/d/x')).toBe(
      undefined,
    );
  });
});

interface AuditRecord {
  message: string;
  event: Record<string, any>;
}

/**
 * The plugin logger, keeping what Backstage's auditor writes through it (its
 * children with `isAuditEvent`), as a platform team's log pipeline would.
 */
function capturingLogger(records: AuditRecord[]) {
  const make = (fields: Record<string, unknown>): LoggerService => {
    const log = (message: string, meta?: unknown) => {
      if (!fields.isAuditEvent) return;
      const { isAuditEvent, ...rest } = fields;
      records.push({
        message,
        event:
          meta instanceof Error
            ? { ...rest, error: meta }
            : { ...rest, ...(meta as object) },
      });
    };
    return {
      error: log,
      warn: log,
      info: log,
      debug: log,
      child: more => make({ ...fields, ...more }),
    };
  };
  return createServiceFactory({
    service: coreServices.logger,
    deps: {},
    factory: () => make({}),
  });
}

const cluster = useTestCluster({
  knative: false,
  capsule: false,
  cilium: false,
});
const databases = pavedTestDatabases();

describe('audit events of a real backend', () => {
  const records: AuditRecord[] = [];
  let backend: PavedTestBackend;
  let admin: KubeClient;
  let finalizers: FinalizerStandIn | undefined;

  beforeAll(async () => {
    admin = await KubeClient.fromKubeConfig(cluster().kubeConfig);
    finalizers = await startFinalizerStandIn(admin);
    backend = await startPavedBackend({
      knex: await databases.init('SQLITE_3'),
      config: {
        paved: { kubernetes: { kubeconfig: cluster().kubeconfigPath } },
      },
      features: [capturingLogger(records)],
    });
  });
  afterAll(async () => {
    await finalizers?.stop();
    await backend?.stop();
    admin?.close();
  });

  const as = (user: string) => ({ authorization: backend.as(user) });
  /** The records of the next request, once its answer's event arrived. */
  async function eventsOf(send: () => Promise<unknown>) {
    const from = records.length;
    await send();
    for (let i = 0; i < 50; i++) {
      const mine = records.slice(from);
      if (mine.some(r => r.event.status !== 'initiated')) return mine;
      await new Promise(r => setTimeout(r, 20));
    }
    return records.slice(from);
  }

  it('records a create: initiated, then succeeded with the actor, the target and the client', async () => {
    const events = await eventsOf(() =>
      backend.request
        .post('/api/paved/tenants')
        .set(as(ALICE))
        .set('x-paved-client', 'cli')
        .send({ name: 'audit-a', displayName: 'Audit A', owner: TEAM_A })
        .expect(201),
    );
    expect(events.map(e => [e.message, e.event.status])).toEqual([
      ['paved.tenant-mutate', 'initiated'],
      ['paved.tenant-mutate', 'succeeded'],
    ]);
    expect(events[1].event).toMatchObject({
      plugin: 'paved',
      eventId: 'tenant-mutate',
      severityLevel: 'low',
      actor: { actorId: ALICE },
      request: { method: 'POST', url: '/api/paved/tenants' },
      meta: {
        actionType: 'create',
        tenant: 'audit-a',
        via: 'cli',
        status: 201,
      },
    });
  });

  it('records a refused write as failed, with the error the caller got', async () => {
    const duplicate = await eventsOf(() =>
      backend.request
        .post('/api/paved/tenants')
        .set(as(ALICE))
        .send({ name: 'audit-a', displayName: 'Again', owner: TEAM_A })
        .expect(409),
    );
    const failed = duplicate.find(e => e.event.status === 'failed');
    expect(failed?.event).toMatchObject({
      actor: { actorId: ALICE },
      meta: { actionType: 'create', tenant: 'audit-a', status: 409 },
    });
    expect(failed?.event.error).toBeInstanceOf(Error);
    expect(failed?.event.error.name).toBe('ConflictError');

    const invalid = await eventsOf(() =>
      backend.request
        .put('/api/paved/tenants/audit-a/apps/web')
        .set(as(ALICE))
        .send({ image: 42 })
        .expect(400),
    );
    expect(invalid.find(e => e.event.status === 'failed')?.event).toMatchObject(
      {
        eventId: 'app-mutate',
        meta: { actionType: 'deploy', tenant: 'audit-a', app: 'web' },
        error: expect.objectContaining({ name: 'InputError' }),
      },
    );
  });

  it("records another team's write as failed under that identity, with the 404 it got", async () => {
    const events = await eventsOf(() =>
      backend.request
        .delete('/api/paved/tenants/audit-a')
        .set(as(BOB))
        .expect(404),
    );
    expect(events.find(e => e.event.status === 'failed')?.event).toMatchObject({
      severityLevel: 'medium',
      actor: { actorId: BOB },
      meta: { actionType: 'delete', tenant: 'audit-a', status: 404 },
      error: expect.objectContaining({ name: 'NotFoundError' }),
    });
  });

  it('records nothing for reads, and for writes to paths that are not routes', async () => {
    const from = records.length;
    await backend.request.get('/api/paved/tenants').set(as(ALICE)).expect(200);
    await backend.request
      .post('/api/paved/tenants/audit-a/apps/web/bogus')
      .set(as(ALICE))
      .expect(404);
    expect(records.slice(from)).toEqual([]);
  });

  it('records the delete that succeeds', async () => {
    const events = await eventsOf(() =>
      backend.request
        .delete('/api/paved/tenants/audit-a')
        .set(as(ALICE))
        .expect(202),
    );
    expect(
      events.find(e => e.event.status === 'succeeded')?.event,
    ).toMatchObject({
      actor: { actorId: ALICE },
      meta: { actionType: 'delete', tenant: 'audit-a', status: 202 },
    });
  });
});
