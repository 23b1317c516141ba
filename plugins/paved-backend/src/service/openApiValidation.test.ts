/**
 * The OpenAPI document drives request validation (Backstage's
 * backend-openapi-utils validator, openApiValidation.ts): on a real
 * backend, every operation of the document refuses what only the document
 * refuses — a query parameter it does not list, on a request that is
 * otherwise valid, so the routes' own zod parsing lets it through — with a
 * 400 that names it, and acts on nothing. Where both refuse, the route's
 * more precise words come first.
 */
import { TestDatabases } from '@backstage/backend-test-utils';
import express from 'express';
import supertest from 'supertest';
import { openApiDocument } from '@paved/plugin-paved-common';
import {
  ALICE,
  PavedTestBackend,
  TEAM_A,
  startPavedBackend,
} from '../testUtils/backend';
import {
  assertDocumented,
  documentForValidation,
  openApiRequestValidation,
} from './openApiValidation';

jest.setTimeout(60_000);

const doc = openApiDocument() as any;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const UID = '0b9a2f0e-4c1d-4e8a-9f3b-2a6c7d8e9f01';

/**
 * A request each operation's own parsing accepts (names, bodies and query
 * as the routes want them); none needs the tenant to exist, because the
 * document's verdict is checked before a route acts.
 */
const VALID: Record<string, { path: string; body?: object }> = {
  'GET /plans': { path: '/plans' },
  'GET /tenants': { path: '/tenants' },
  'POST /tenants': {
    path: '/tenants',
    body: { name: 'oa-created', displayName: 'OA', owner: TEAM_A },
  },
  'GET /tenants/{tenant}': { path: '/tenants/oa' },
  'PATCH /tenants/{tenant}': {
    path: '/tenants/oa',
    body: { displayName: 'Renamed' },
  },
  'DELETE /tenants/{tenant}': { path: '/tenants/oa' },
  'GET /tenants/{tenant}/audit': { path: '/tenants/oa/audit' },
  'GET /history/tenants': { path: '/history/tenants' },
  'GET /history/tenants/{uid}/audit': { path: `/history/tenants/${UID}/audit` },
  'GET /apps': { path: '/apps' },
  'GET /tenants/{tenant}/apps': { path: '/tenants/oa/apps' },
  'GET /tenants/{tenant}/apps/{app}': { path: '/tenants/oa/apps/web' },
  'PUT /tenants/{tenant}/apps/{app}': {
    path: '/tenants/oa/apps/web',
    body: { image: 'registry.localhost/web:1', port: 8080 },
  },
  'DELETE /tenants/{tenant}/apps/{app}': { path: '/tenants/oa/apps/web' },
  'PUT /tenants/{tenant}/apps/{app}/domains/{domain}': {
    path: '/tenants/oa/apps/web/domains/shop.example.com',
    body: {},
  },
  'DELETE /tenants/{tenant}/apps/{app}/domains/{domain}': {
    path: '/tenants/oa/apps/web/domains/shop.example.com',
  },
  'PATCH /tenants/{tenant}/apps/{app}/env': {
    path: '/tenants/oa/apps/web/env',
    body: { set: [{ name: 'GREETING', value: 'hi' }] },
  },
  'POST /tenants/{tenant}/apps/{app}/pause': {
    path: '/tenants/oa/apps/web/pause',
    body: {},
  },
  'POST /tenants/{tenant}/apps/{app}/resume': {
    path: '/tenants/oa/apps/web/resume',
    body: {},
  },
  'POST /tenants/{tenant}/apps/{app}/redeploy': {
    path: '/tenants/oa/apps/web/redeploy',
    body: {},
  },
  'POST /tenants/{tenant}/apps/{app}/rollback': {
    path: '/tenants/oa/apps/web/rollback',
    body: { revision: 1 },
  },
  'GET /tenants/{tenant}/apps/{app}/revisions': {
    path: '/tenants/oa/apps/web/revisions',
  },
  'GET /tenants/{tenant}/apps/{app}/events': {
    path: '/tenants/oa/apps/web/events',
  },
  'GET /tenants/{tenant}/apps/{app}/audit': {
    path: '/tenants/oa/apps/web/audit',
  },
  'GET /tenants/{tenant}/apps/{app}/logs': {
    path: '/tenants/oa/apps/web/logs',
  },
};

/** Every operation of the document but the document itself. */
const operations: string[] = Object.entries(doc.paths).flatMap(
  ([route, item]: [string, any]) =>
    METHODS.filter(m => item[m])
      .map(m => `${m.toUpperCase()} ${route}`)
      .filter(op => op !== 'GET /openapi.json'),
);

describe('request validation by the OpenAPI document', () => {
  const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
  let backend: PavedTestBackend;

  beforeAll(async () => {
    backend = await startPavedBackend({
      knex: await databases.init('SQLITE_3'),
      config: {},
    });
  });
  afterAll(() => backend?.stop());

  it('has a valid request for every operation of the document', () => {
    expect(Object.keys(VALID).sort()).toEqual([...operations].sort());
  });

  it.each(operations)(
    '%s refuses a query parameter the document does not list, naming it',
    async operation => {
      const [method, route] = operation.split(' ');
      const { path, body } = VALID[operation];
      let call = (backend.request as any)
        [method.toLowerCase()](`/api/paved${path}?undocumented=1`)
        .set('authorization', backend.as(ALICE));
      if (body) call = call.send(body);
      const response = await call;
      expect({ operation, route, status: response.status }).toEqual({
        operation,
        route,
        status: 400,
      });
      expect(response.body.error.message).toMatch(/undocumented/);
    },
  );

  it('acts on nothing it refused', async () => {
    await backend.request
      .post('/api/paved/tenants?undocumented=1')
      .set('authorization', backend.as(ALICE))
      .send({ name: 'oa-refused', displayName: 'Refused', owner: TEAM_A })
      .expect(400);
    // Without the parameter the same request is fine: it was the document.
    const list = await backend.request
      .get('/api/paved/tenants')
      .set('authorization', backend.as(ALICE))
      .expect(200);
    expect(list.body.items.map((t: any) => t.name)).not.toContain('oa-refused');
  });

  it("gives the route's own words first where both refuse", async () => {
    const response = await backend.request
      .post('/api/paved/tenants?undocumented=1')
      .set('authorization', backend.as(ALICE))
      .send({ name: 'Bad!', displayName: 'Bad', owner: TEAM_A })
      .expect(400);
    expect(response.body.error.message).toMatch(/^Invalid tenant: name: /);
  });
});

describe('the validator on the document', () => {
  it('reads the document relative to the router, without security', () => {
    const copy = documentForValidation(doc);
    expect(copy.servers).toEqual([{ url: '/' }]);
    expect(copy.security).toBeUndefined();
    // The served document is left as it is.
    expect(doc.servers).toEqual([{ url: '/api/paved' }]);
  });

  it('refuses what the document refuses and passes the rest unchanged', async () => {
    // The middleware alone, in an app of its own, as the router mounts it.
    const app = express();
    const api = express.Router();
    api.use(express.json());
    api.use(openApiRequestValidation(doc));
    api.all('*', (req, res) => {
      let verdict = 'documented';
      try {
        assertDocumented(req);
      } catch (error) {
        verdict = `${(error as Error).name}: ${(error as Error).message}`;
      }
      res.json({ query: req.query, body: req.body ?? null, verdict });
    });
    app.use('/api/paved', api);

    // Query strings stay strings for the routes (the validator parses
    // them into numbers on its copy).
    const paged = await supertest(app).get('/api/paved/apps?limit=5');
    expect(paged.body.query).toEqual({ limit: '5' });
    expect(paged.body.verdict).toBe('documented');

    const over = await supertest(app).get('/api/paved/apps?limit=0');
    expect(over.body.verdict).toBe(
      'InputError: Invalid request: query/limit must be >= 1; the API is described in /api/paved/openapi.json',
    );

    const body = { name: 'oa', displayName: 'OA', owner: TEAM_A, extra: 1 };
    const extra = await supertest(app).post('/api/paved/tenants').send(body);
    // The route gets the body as sent: no defaults filled in.
    expect(extra.body.body).toEqual(body);
    expect(extra.body.verdict).toMatch(
      /^InputError: Invalid request: body must NOT have additional properties/,
    );

    const valid = await supertest(app)
      .post('/api/paved/tenants')
      .send({ name: 'oa', displayName: 'OA', owner: TEAM_A });
    expect(valid.body.verdict).toBe('documented');
  });
});
