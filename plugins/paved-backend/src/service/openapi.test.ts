/**
 * The OpenAPI document against the router: the committed openapi.json is
 * what paved-common generates, every route of the router is in it, and every
 * answer of a real backend — through every operation of the document, its
 * successes and its errors — is valid against the schema the document gives
 * for that operation and status (JSON Schema 2020-12, OpenAPI 3.1's
 * dialect, with ajv). An answer with a field the document does not
 * describe, without one it requires, or with a status it does not list
 * fails the test.
 */
import fs from 'fs';
import path from 'path';
import { TestDatabases } from '@backstage/backend-test-utils';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Knex } from 'knex';
import { MAX_BODY_BYTES } from './framing';
import { AuditStore } from '../database/AuditStore';
import { TenantStore } from '../database/TenantStore';
import { openApiDocument } from '@paved/plugin-paved-common';
import {
  ALICE,
  BOB,
  PavedTestBackend,
  ROOT,
  TEAM_A,
  startPavedBackend,
} from '../testUtils/backend';

// prettier 2 ships no types.
const prettier: {
  format(text: string, options: { parser: string }): string;
} = require('prettier');

jest.setTimeout(120_000);

const FILE = path.resolve(__dirname, '../../openapi.json');
const RATE_LIMIT = 150;
const LOGS_OPERATION = 'GET /tenants/{tenant}/apps/{app}/logs';

const doc = openApiDocument() as any;

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
type Method = (typeof METHODS)[number];

/** Every operation of the document, as `METHOD /path/{param}`. */
const operations: string[] = Object.entries(doc.paths).flatMap(
  ([route, item]: [string, any]) =>
    METHODS.filter(m => item[m]).map(m => `${m.toUpperCase()} ${route}`),
);

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'openapi.json');

const pointer = (...parts: string[]) =>
  parts.map(p => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** The path of the document a concrete request path belongs to. */
function pathOf(url: string): string | undefined {
  const pathname = url.split('?')[0].replace(/^\/api\/paved/, '');
  return Object.keys(doc.paths).find(route =>
    new RegExp(`^${route.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(pathname),
  );
}

/** The operation of the document a concrete request path belongs to. */
function operationOf(method: string, url: string): [string, any] | undefined {
  const pathname = url.split('?')[0].replace(/^\/api\/paved/, '');
  for (const route of Object.keys(doc.paths)) {
    const pattern = new RegExp(`^${route.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const op = doc.paths[route][method.toLowerCase()];
    if (pattern.test(pathname) && op) return [route, op];
  }
  return undefined;
}

/**
 * The problems of an answer against the document: its status must be
 * listed for the operation, and its body valid against the listed schema.
 */
function checkAnswer(
  method: string,
  url: string,
  status: number,
  body: unknown,
): string[] {
  const found = operationOf(method, url);
  let route: string;
  let response: any;
  if (found) {
    route = found[0];
    response = found[1].responses[String(status)];
  } else {
    // A method the document's path does not take: 405, described once.
    route = pathOf(url) ?? url;
    if (!pathOf(url) || status !== 405) {
      return [`${method} ${url} is no operation of the document`];
    }
    response = { $ref: '#/components/responses/MethodNotAllowed' };
  }
  if (!response) {
    return [
      `${method} ${route} answered ${status}, which the document does not list (it lists ${Object.keys(
        found![1].responses,
      ).join(', ')})`,
    ];
  }
  let where = `#/${pointer(
    'paths',
    route,
    method.toLowerCase(),
    'responses',
    String(status),
  )}`;
  if (response.$ref) {
    where = response.$ref;
    response = doc.components.responses[response.$ref.split('/').pop()];
  }
  const media = response.content?.['application/json'];
  if (!media) {
    return body === undefined ||
      body === '' ||
      Object.keys(body as object).length === 0
      ? []
      : [
          `${method} ${route} ${status} has a body the document does not describe`,
        ];
  }
  const validate = ajv.compile({
    $ref: `openapi.json${where}/${pointer(
      'content',
      'application/json',
      'schema',
    )}`,
  });
  if (validate(body)) return [];
  return (validate.errors ?? []).map(
    e =>
      `${method} ${route} ${status}: ${e.instancePath || '(body)'} ${
        e.message
      }${
        e.params && 'additionalProperty' in e.params
          ? ` (${(e.params as any).additionalProperty})`
          : ''
      }`,
  );
}

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('OpenAPI document', () => {
  it('matches the committed openapi.json (UPDATE_OPENAPI=1 rewrites it)', () => {
    // Formatted as the repository's prettier check wants it.
    const text = prettier.format(JSON.stringify(openApiDocument()), {
      parser: 'json',
    });
    if (process.env.UPDATE_OPENAPI) fs.writeFileSync(FILE, text);
    expect(fs.readFileSync(FILE, 'utf8')).toBe(text);
  });

  it('describes every route of the router, and no other', () => {
    const source = fs.readFileSync(path.join(__dirname, 'router.ts'), 'utf8');
    const routes = [
      ...source.matchAll(/router\.(get|post|put|patch|delete)\(\s*'([^']+)'/g),
    ]
      .map(
        ([, method, route]) =>
          `${method.toUpperCase()} ${route.replace(/:(\w+)/g, '{$1}')}`,
      )
      .filter(route => route !== 'GET /openapi.json');
    expect(routes.length).toBeGreaterThan(15);
    expect([...routes].sort()).toEqual([...operations].sort());
  });

  it('generates request and answer schemas from the zod schemas', () => {
    const deploy = doc.components.schemas.DeployAppRequest;
    expect(deploy.required).toEqual(['image']);
    expect(deploy.properties.image.pattern).toBeDefined();
    expect(deploy.additionalProperties).toBe(false);
    // Answers: every field described, the ones always there required.
    const app = doc.components.schemas.AppView;
    expect(app.additionalProperties).toBe(false);
    expect(app.required).toEqual(
      expect.arrayContaining(['tenant', 'name', 'env', 'scaling', 'status']),
    );
    expect(app.properties.scaling.required).toEqual([
      'minInstances',
      'maxInstances',
      'targetConcurrency',
    ]);
    expect(ajv.validateSchema(doc.components.schemas.AppView)).toBe(true);
  });

  it('has a check that fails on an undescribed field, a missing one and an unlisted status', () => {
    const plan = {
      name: 'free',
      description: 'Free',
      cpu: '1',
      memory: '1Gi',
      maxApps: 3,
    };
    expect(
      checkAnswer('GET', '/api/paved/plans', 200, { items: [plan] }),
    ).toEqual([]);
    expect(
      checkAnswer('GET', '/api/paved/plans', 200, {
        items: [{ ...plan, extra: 1 }],
      }),
    ).toEqual([
      'GET /plans 200: /items/0 must NOT have additional properties (extra)',
    ]);
    const { maxApps, ...missing } = plan;
    expect(
      checkAnswer('GET', '/api/paved/plans', 200, { items: [missing] }),
    ).toEqual([
      "GET /plans 200: /items/0 must have required property 'maxApps'",
    ]);
    expect(checkAnswer('GET', '/api/paved/plans', 202, {})).toEqual([
      'GET /plans answered 202, which the document does not list (it lists 200, 400, 405, 500)',
    ]);
    expect(maxApps).toBe(3);
  });

  describe('every answer of the router', () => {
    let backend: PavedTestBackend;
    /** What was answered, by operation: the statuses seen. */
    const seen = new Map<string, Set<number>>();
    const problems: string[] = [];

    let knex: Knex;

    beforeAll(async () => {
      knex = await databases.init('SQLITE_3');
      backend = await startPavedBackend({
        knex,
        config: { paved: { rateLimit: { writes: RATE_LIMIT } } },
      });
    });
    const purgeTenant = (name: string) =>
      new TenantStore(knex, new AuditStore(knex)).purgeTenant(name);
    afterAll(() => backend?.stop());

    /**
     * Sends a request as `user` (none: a token that is not valid) and checks the answer
     * against the document; returns the answer.
     */
    async function call(
      user: string | undefined,
      method: Method,
      url: string,
      body?: unknown,
      options: {
        contentType?: string;
        raw?: string;
        headers?: Record<string, string>;
      } = {},
    ) {
      let req = backend.request[method](url);
      req = req.set(
        'authorization',
        user ? backend.as(user) : 'Bearer not-a-backstage-token',
      );
      for (const [name, value] of Object.entries(options.headers ?? {})) {
        req = req.set(name, value);
      }
      if (options.raw !== undefined) {
        req = req
          .set('content-type', options.contentType ?? 'application/json')
          .send(options.raw);
      } else if (body !== undefined) {
        req = req.send(body as object);
      }
      const res = await req;
      const op = operationOf(method, url);
      const key = op ? `${method.toUpperCase()} ${op[0]}` : `${method} ${url}`;
      if (!seen.has(key)) seen.set(key, new Set());
      seen.get(key)!.add(res.status);
      problems.push(...checkAnswer(method, url, res.status, res.body));
      return res;
    }

    const T = '/api/paved/tenants/shop';
    const APP = `${T}/apps/web`;

    it('answers as documented on the way a tenant and its app live', async () => {
      const statuses = [
        (await call(ALICE, 'get', '/api/paved/plans')).status,
        (
          await call(ALICE, 'post', '/api/paved/tenants', {
            name: 'shop',
            displayName: 'Shop',
            owner: TEAM_A,
            plan: 'pro',
          })
        ).status,
        // Overrides and isolation off are for the platform team.
        (
          await call(ROOT, 'post', '/api/paved/tenants', {
            name: 'platform',
            displayName: 'Platform',
            owner: 'group:default/platform',
            limits: { maxApps: 2, cpu: '2' },
            networkIsolation: false,
          })
        ).status,
        (await call(ALICE, 'get', '/api/paved/tenants')).status,
        (await call(ROOT, 'get', '/api/paved/tenants')).status,
        (await call(ALICE, 'get', T)).status,
        (await call(ALICE, 'patch', T, { displayName: 'The shop' })).status,
        (
          await call(ALICE, 'put', APP, {
            image: 'ghcr.io/acme/web:1.0',
            env: [
              { name: 'GREETING', value: 'hello' },
              { name: 'API_KEY', value: 's3cret', secret: true },
            ],
            domains: ['web.example.com'],
            scaling: { minInstances: 1 },
          })
        ).status,
        (
          await call(ALICE, 'put', APP, {
            image: 'ghcr.io/acme/web:1.1',
            env: [{ name: 'API_KEY', value: '********', secret: true }],
          })
        ).status,
        (await call(ALICE, 'get', '/api/paved/apps')).status,
        (await call(ALICE, 'get', `${T}/apps`)).status,
        (await call(ALICE, 'get', APP)).status,
        // A long poll that saw no change.
        (
          await call(ALICE, 'get', APP, undefined, {
            headers: {
              'if-none-match': (await call(ALICE, 'get', APP)).headers.etag,
              prefer: 'wait=1',
            },
          })
        ).status,
        (
          await call(ALICE, 'patch', `${APP}/env`, {
            set: [{ name: 'LOG_LEVEL', value: 'debug' }],
            remove: ['GREETING'],
          })
        ).status,
        (await call(ALICE, 'put', `${APP}/domains/shop.example.com`, {}))
          .status,
        (await call(ALICE, 'delete', `${APP}/domains/shop.example.com`)).status,
        (await call(ALICE, 'post', `${APP}/pause`)).status,
        (await call(ALICE, 'post', `${APP}/resume`, {})).status,
        (await call(ALICE, 'post', `${APP}/redeploy`)).status,
        (await call(ALICE, 'post', `${APP}/rollback`, { revision: 1 })).status,
        (await call(ALICE, 'get', `${APP}/revisions`)).status,
        (await call(ALICE, 'get', `${APP}/events`)).status,
        (await call(ALICE, 'get', `${APP}/audit`)).status,
        (await call(ALICE, 'get', `${APP}/audit?limit=1`)).status,
        (await call(ALICE, 'get', `${T}/audit`)).status,
        (await call(ALICE, 'get', '/api/paved/history/tenants')).status,
        (await call(ALICE, 'delete', APP)).status,
        (await call(ALICE, 'delete', T)).status,
      ];
      expect(statuses).toEqual([
        200, 201, 201, 200, 200, 200, 200, 201, 200, 200, 200, 200, 304, 200,
        200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 202, 202,
      ]);
      expect(problems).toEqual([]);
    });

    it("answers a deleted tenant's history as documented", async () => {
      await call(ALICE, 'post', '/api/paved/tenants', {
        name: 'gone',
        displayName: 'Gone',
        owner: TEAM_A,
      });
      // No cluster here: the deletion is purged by hand, as the sync
      // does once the cluster has let the Tenant go.
      await call(ALICE, 'delete', '/api/paved/tenants/gone');
      await purgeTenant('gone');
      const listed = await call(ALICE, 'get', '/api/paved/history/tenants');
      const gone = listed.body.items.find((t: any) => t.name === 'gone');
      const audit = await call(
        ALICE,
        'get',
        `/api/paved/history/tenants/${gone?.uid}/audit?limit=1`,
      );
      expect([listed.status, audit.status, audit.body.items.length]).toEqual([
        200, 200, 1,
      ]);
      expect(problems).toEqual([]);
    });

    it('answers every error as documented', async () => {
      await call(ALICE, 'post', '/api/paved/tenants', {
        name: 'errs',
        displayName: 'Errors',
        owner: TEAM_A,
      });
      const E = '/api/paved/tenants/errs';
      const EAPP = `${E}/apps/web`;
      await call(ALICE, 'put', EAPP, { image: 'ghcr.io/acme/web:1.0' });
      const answers: Array<[string, number]> = [];
      const expectStatus = async (
        what: string,
        res: Promise<{ status: number }>,
      ) => answers.push([what, (await res).status]);

      // No token, on every operation.
      for (const operation of operations) {
        const [method, route] = operation.split(' ');
        await expectStatus(
          `${operation} without a valid token`,
          call(
            undefined,
            method.toLowerCase() as Method,
            `/api/paved${route
              .replace('{tenant}', 'errs')
              .replace('{app}', 'web')}`,
          ),
        );
      }
      // The plans are open to everyone (the document says so: security []).
      const open = operations.filter(
        operation =>
          doc.paths[operation.split(' ')[1]][
            operation.split(' ')[0].toLowerCase()
          ].security?.length === 0,
      );
      expect(open).toEqual(['GET /plans']);
      const expected: Array<[string, number]> = operations.map(operation => [
        `${operation} without a valid token`,
        open.includes(operation) ? 200 : 401,
      ]);

      // The plans need no token; a GET with a body is refused.
      expected.push(['GET /plans with a body', 400]);
      await expectStatus(
        'GET /plans with a body',
        call(ALICE, 'get', '/api/paved/plans', { all: true }),
      );

      const bad: Array<[string, number, () => Promise<{ status: number }>]> = [
        [
          'bad tenant',
          400,
          () => call(ALICE, 'post', '/api/paved/tenants', { name: 'Bad_Name' }),
        ],
        [
          'bad tenant name in the path',
          400,
          () => call(ALICE, 'get', '/api/paved/tenants/Bad_Name'),
        ],
        ['bad update', 400, () => call(ALICE, 'patch', E, { plan: 7 })],
        [
          'bad delete query',
          400,
          () => call(ALICE, 'delete', `${E}?expectedGeneration=x`),
        ],
        ['bad deploy', 400, () => call(ALICE, 'put', EAPP, { image: 'nginx' })],
        ['bad env patch', 400, () => call(ALICE, 'patch', `${EAPP}/env`, {})],
        [
          'bad certificate',
          400,
          () =>
            call(ALICE, 'put', `${EAPP}/domains/shop.example.com`, {
              certificate: 'not a certificate',
              privateKey: 'not a key',
            }),
        ],
        [
          'removing a domain the app does not have',
          404,
          () => call(ALICE, 'delete', `${EAPP}/domains/shop.example.com`),
        ],
        [
          'bad pause body',
          400,
          () => call(ALICE, 'post', `${EAPP}/pause`, { paused: true }),
        ],
        [
          'bad resume body',
          400,
          () => call(ALICE, 'post', `${EAPP}/resume`, { now: 1 }),
        ],
        [
          'bad redeploy body',
          400,
          () =>
            call(ALICE, 'post', `${EAPP}/redeploy`, { expectedGeneration: -1 }),
        ],
        [
          'bad rollback',
          400,
          () => call(ALICE, 'post', `${EAPP}/rollback`, { revision: 0 }),
        ],
        [
          'bad app name in the path',
          400,
          () => call(ALICE, 'get', `${E}/apps/Web`),
        ],
        [
          'bad app delete query',
          400,
          () => call(ALICE, 'delete', `${EAPP}?force=1`),
        ],
        [
          'bad revisions path',
          400,
          () => call(ALICE, 'get', `${E}/apps/Web/revisions`),
        ],
        [
          'bad events path',
          400,
          () => call(ALICE, 'get', `${E}/apps/Web/events`),
        ],
        [
          'bad audit path',
          400,
          () => call(ALICE, 'get', `${E}/apps/Web/audit`),
        ],
        [
          'bad tenant audit path',
          400,
          () => call(ALICE, 'get', '/api/paved/tenants/Bad/audit'),
        ],
        ['bad audit page', 400, () => call(ALICE, 'get', `${E}/audit?limit=0`)],
        [
          'bad history query',
          400,
          () => call(ALICE, 'get', '/api/paved/history/tenants?all=1'),
        ],
        [
          'bad deleted tenant uid',
          400,
          () =>
            call(ALICE, 'get', '/api/paved/history/tenants/NOT_A_UID/audit'),
        ],
        [
          'no such deleted tenant',
          404,
          () =>
            call(
              ALICE,
              'get',
              '/api/paved/history/tenants/00000000-0000-4000-8000-000000000000/audit',
            ),
        ],
        [
          'bad logs query',
          400,
          () => call(ALICE, 'get', `${EAPP}/logs?follow=maybe`),
        ],
        ['logs of another team', 404, () => call(BOB, 'get', `${EAPP}/logs`)],
        [
          'logs with no cluster configured',
          503,
          () => call(ALICE, 'get', `${EAPP}/logs`),
        ],
        [
          'bad tenant apps path',
          400,
          () => call(ALICE, 'get', '/api/paved/tenants/Bad/apps'),
        ],
        [
          'a tenant for another group',
          403,
          () =>
            call(BOB, 'post', '/api/paved/tenants', {
              name: 'steal',
              displayName: 'Steal',
              owner: TEAM_A,
            }),
        ],
        [
          'no such tenant',
          404,
          () => call(ALICE, 'get', '/api/paved/tenants/nope'),
        ],
        ["another team's tenant", 404, () => call(BOB, 'get', E)],
        ["another team's apps", 404, () => call(BOB, 'get', `${E}/apps`)],
        ["another team's audit", 404, () => call(BOB, 'get', `${E}/audit`)],
        [
          "update another team's tenant",
          404,
          () => call(BOB, 'patch', E, { displayName: 'Mine' }),
        ],
        ["delete another team's tenant", 404, () => call(BOB, 'delete', E)],
        ['no such app', 404, () => call(ALICE, 'get', `${E}/apps/nope`)],
        [
          'no such app to patch',
          404,
          () => call(ALICE, 'patch', `${E}/apps/nope/env`, { remove: ['A'] }),
        ],
        [
          'no such app to pause',
          404,
          () => call(ALICE, 'post', `${E}/apps/nope/pause`),
        ],
        [
          'no such app to resume',
          404,
          () => call(ALICE, 'post', `${E}/apps/nope/resume`),
        ],
        [
          'no such app to redeploy',
          404,
          () => call(ALICE, 'post', `${E}/apps/nope/redeploy`),
        ],
        [
          'no such app to roll back',
          404,
          () => call(ALICE, 'post', `${E}/apps/nope/rollback`, { revision: 1 }),
        ],
        [
          'no such app to delete',
          404,
          () => call(ALICE, 'delete', `${E}/apps/nope`),
        ],
        [
          'no such app revisions',
          404,
          () => call(ALICE, 'get', `${E}/apps/nope/revisions`),
        ],
        [
          'no such app events',
          404,
          () => call(ALICE, 'get', `${E}/apps/nope/events`),
        ],
        [
          "another team's app audit",
          404,
          () => call(BOB, 'get', `${EAPP}/audit`),
        ],
        [
          "another team's app",
          404,
          () => call(BOB, 'put', EAPP, { image: 'ghcr.io/acme/web:2.0' }),
        ],
        [
          'a method the path does not take',
          405,
          () => call(ALICE, 'delete', '/api/paved/plans'),
        ],
        [
          'a method the tenants do not take',
          405,
          () => call(ALICE, 'put', '/api/paved/tenants'),
        ],
        [
          'a method the apps do not take',
          405,
          () => call(ALICE, 'post', '/api/paved/apps'),
        ],
        [
          'a tenant that exists',
          409,
          () =>
            call(ALICE, 'post', '/api/paved/tenants', {
              name: 'errs',
              displayName: 'Again',
              owner: TEAM_A,
            }),
        ],
        [
          'a stale deploy',
          409,
          () =>
            call(ALICE, 'put', EAPP, {
              image: 'ghcr.io/acme/web:2.0',
              expectedGeneration: 999,
            }),
        ],
        [
          'a stale update',
          409,
          () =>
            call(ALICE, 'patch', E, {
              displayName: 'Stale',
              expectedGeneration: 999,
            }),
        ],
        [
          'a stale env patch',
          409,
          () =>
            call(ALICE, 'patch', `${EAPP}/env`, {
              remove: ['A'],
              expectedGeneration: 999,
            }),
        ],
        [
          'a stale pause',
          409,
          () =>
            call(ALICE, 'post', `${EAPP}/pause`, { expectedGeneration: 999 }),
        ],
        [
          'a stale resume',
          409,
          () =>
            call(ALICE, 'post', `${EAPP}/resume`, { expectedGeneration: 999 }),
        ],
        [
          'a stale redeploy',
          409,
          () =>
            call(ALICE, 'post', `${EAPP}/redeploy`, {
              expectedGeneration: 999,
            }),
        ],
        [
          'a stale rollback',
          409,
          () =>
            call(ALICE, 'post', `${EAPP}/rollback`, {
              revision: 1,
              expectedGeneration: 999,
            }),
        ],
        [
          'a stale app delete',
          409,
          () => call(ALICE, 'delete', `${EAPP}?expectedGeneration=999`),
        ],
        [
          'a stale tenant delete',
          409,
          () => call(ALICE, 'delete', `${E}?expectedGeneration=999`),
        ],
        [
          'a body over the limit',
          413,
          () =>
            call(ALICE, 'put', EAPP, undefined, {
              raw: JSON.stringify({
                image: 'ghcr.io/acme/web:1.0',
                pad: 'x'.repeat(MAX_BODY_BYTES),
              }),
            }),
        ],
        [
          'not JSON',
          415,
          () =>
            call(ALICE, 'post', '/api/paved/tenants', undefined, {
              raw: 'name=x',
              contentType: 'text/plain',
            }),
        ],
      ];
      for (const [what, status, send] of bad) {
        expected.push([what, status]);
        await expectStatus(what, send());
      }

      // Over the write rate limit: ROOT's writes, refused ones too, count.
      let limited: { status: number } | undefined;
      for (let i = 0; i <= RATE_LIMIT && !limited; i++) {
        const res = await call(ROOT, 'post', `${E}/apps/nope/pause`, {
          expectedGeneration: -1,
        });
        if (res.status === 429) limited = res;
      }
      expected.push(['over the rate limit', 429]);
      answers.push(['over the rate limit', limited?.status ?? 0]);

      expect(answers).toEqual(expected);
      expect(problems).toEqual([]);
    });

    it('was driven through every operation of the document, with a success and an error each', () => {
      const coverage = operations.map(operation => {
        const statuses = [...(seen.get(operation) ?? [])];
        return {
          operation,
          // The log stream needs a cluster with the app's pods: its
          // successful answers are checked in logs.test.ts, line by line
          // against the document's LogLine.
          success: statuses.some(s => s < 300) || operation === LOGS_OPERATION,
          error: statuses.some(s => s >= 400),
        };
      });
      expect(coverage).toEqual(
        operations.map(operation => ({
          operation,
          success: true,
          error: true,
        })),
      );
      // Every error answer the document describes was seen somewhere
      // (500 only when the backend fails, which these tests cannot provoke).
      const statuses = new Set([...seen.values()].flatMap(s => [...s]));
      const documented = new Set(
        Object.values(doc.paths).flatMap((item: any) =>
          METHODS.filter(m => item[m]).flatMap(m =>
            Object.keys(item[m].responses).map(Number),
          ),
        ),
      );
      expect([...documented].filter(s => !statuses.has(s)).sort()).toEqual([
        500,
      ]);
    });
  });
});
