/**
 * Property-based fuzzing of every write endpoint against a real API server:
 * arbitrary and mutated bodies, content types, encodings, names and
 * callers. For every request: no 5xx; every 4xx a JSON error body with a
 * message; and a refused request changes nothing, neither in the database
 * nor in the cluster. Bounded in time (FUZZ_SECONDS, default 60); prints how
 * many requests it sent.
 */
import { useTestCluster } from '@paved/test-cluster';
import { TestDatabases } from '@backstage/backend-test-utils';
import fc from 'fast-check';
import fs from 'fs';
import { Knex } from 'knex';
import os from 'os';
import path from 'path';
import zlib from 'zlib';
import {
  ALICE,
  BOB,
  PavedTestBackend,
  TEAM_A,
  TEAM_B,
  startPavedBackend,
} from '../testUtils/backend';
import { KubeClient, NAMESPACES } from '@paved/kube';
import { rawRequest } from '../__testUtils__/rawRequest';
import { mustAnswer } from '../__testUtils__/mustAnswer';
import {
  FinalizerStandIn,
  startFinalizerStandIn,
} from '../testUtils/finalizerStandIn';

const FUZZ_MS = Number(process.env.FUZZ_SECONDS ?? 60) * 1000;
jest.setTimeout(FUZZ_MS + 300_000);

const cluster = useTestCluster({
  knative: false,
  capsule: false,
  cilium: false,
});
const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

let backend: PavedTestBackend;
let knex: Knex;
let admin: KubeClient;
let finalizers: FinalizerStandIn | undefined;
let kubeconfigDir: string;

beforeAll(async () => {
  admin = await KubeClient.fromKubeConfig(cluster().kubeConfig);
  // No operator runs here: deleted CRs lose its finalizer.
  finalizers = await startFinalizerStandIn(admin);
  kubeconfigDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paved-fuzz-'));
  const kubeconfig = path.join(kubeconfigDir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, cluster().kubeConfig.exportConfig());
  knex = await databases.init('SQLITE_3');
  backend = await startPavedBackend({
    knex,
    config: { paved: { kubernetes: { kubeconfig } } },
  });
  for (const [tenant, owner, user] of [
    ['fz', TEAM_A, ALICE],
    ['other', TEAM_B, BOB],
  ]) {
    const created = await backend.request
      .post('/api/paved/tenants')
      .set('authorization', backend.as(user))
      .send({ name: tenant, displayName: tenant, owner, plan: 'pro' });
    mustAnswer(`create tenant ${tenant}`, created, 201);
    await admin.create(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: `tenant-${tenant}` },
    });
    const app = await backend.request
      .put(`/api/paved/tenants/${tenant}/apps/web`)
      .set('authorization', backend.as(user))
      .send({
        image: 'web:1',
        env: [
          { name: 'MODE', value: 'prod' },
          { name: 'TOKEN', value: 's3cret', secret: true },
        ],
      });
    mustAnswer(`deploy ${tenant}/web`, app, 201);
  }
});

afterAll(async () => {
  await finalizers?.stop();
  await backend?.stop();
  if (kubeconfigDir) fs.rmSync(kubeconfigDir, { recursive: true, force: true });
});

/** What a request could change: Paved's rows and the cluster's objects. */
async function snapshot() {
  const rows: Record<string, unknown> = {};
  for (const table of [
    'paved_tenants',
    'paved_apps',
    'paved_app_secrets',
    'paved_app_revisions',
    'paved_audit_log',
    'paved_domains',
    'paved_deleted_tenants',
  ]) {
    rows[table] = (await knex(table).select()).map(row => {
      // What the sync job records after an earlier accepted write is not
      // a change made by this request.
      const { applied_generation, last_error, secret_applied, ...rest } = row;
      return rest;
    });
  }
  const versions = async (p: string) =>
    (await admin.request<any>('GET', p)).items
      .map(
        (o: any) =>
          `${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`,
      )
      .sort();
  return {
    rows,
    tenants: await versions('/apis/paved.dev/v1alpha1/tenants'),
    apps: await versions('/apis/paved.dev/v1alpha1/apps'),
    secrets: (await versions('/api/v1/secrets')).filter((s: string) =>
      s.startsWith('tenant-'),
    ),
  };
}

/**
 * Waits until the cluster accepted every saved row (none is behind), so the
 * snapshot before the next request holds no apply still under way: without
 * this barrier a background apply of an accepted write could land during a
 * refused request and be taken for its change, or hide one.
 */
async function applied() {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const behind = [
      ...(await knex('paved_tenants')
        .whereRaw('applied_generation < generation')
        .select('name')),
      ...(await knex('paved_apps')
        .whereRaw('applied_generation < generation')
        .select('tenant', 'name', 'last_error')),
    ];
    if (behind.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `Rows still not applied after 30 s: ${JSON.stringify(behind)}`,
      );
    }
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

/** What is wrong with an error answer: it must be a JSON error body. */
function errorBodyProblems(res: { status: number; body: any }): string[] {
  const problems: string[] = [];
  if (typeof res.body !== 'object') problems.push('the body is not JSON');
  else {
    const message = res.body.error?.message;
    if (typeof message !== 'string' || !message) problems.push('no message');
    if (res.body.error?.stack !== undefined) problems.push('a stack');
    if (res.body.response?.statusCode !== res.status) {
      problems.push('response.statusCode is not the status');
    }
  }
  return problems;
}

const json = fc.jsonValue({ maxDepth: 3 });
const names = fc.oneof(
  fc.constantFrom('fz', 'other', 'nope', 'web', 'FZ', '-x', 'a'.repeat(70)),
  fc.string({ maxLength: 20 }),
);
const validBodies: Record<string, Record<string, unknown>> = {
  createTenant: {
    name: 'new',
    displayName: 'New',
    owner: TEAM_A,
    plan: 'free',
  },
  updateTenant: { displayName: 'Renamed', plan: 'starter' },
  deploy: { image: 'web:2', port: 8080, env: [{ name: 'A', value: '1' }] },
  env: { set: [{ name: 'B', value: '2', secret: true }], remove: ['MODE'] },
  empty: {},
  rollback: { revision: 1 },
  domain: {},
};
/** A valid body with one field replaced, removed, or one added. */
const mutated = (valid: Record<string, unknown>) =>
  fc
    .record({
      key: fc.oneof(
        fc.constantFrom(...Object.keys(valid), 'expectedGeneration'),
        fc.string({ maxLength: 12 }),
      ),
      value: fc.oneof(json, fc.constant(undefined)),
    })
    .map(({ key, value }) => {
      const body: Record<string, unknown> = { ...valid };
      if (value === undefined) delete body[key];
      else body[key] = value;
      return body;
    });

type Endpoint = {
  method: string;
  path: (t: string, a: string) => string;
  body: string;
};
const endpoints: Endpoint[] = [
  { method: 'POST', path: () => '/tenants', body: 'createTenant' },
  { method: 'PATCH', path: t => `/tenants/${t}`, body: 'updateTenant' },
  { method: 'PUT', path: (t, a) => `/tenants/${t}/apps/${a}`, body: 'deploy' },
  {
    method: 'PATCH',
    path: (t, a) => `/tenants/${t}/apps/${a}/env`,
    body: 'env',
  },
  {
    method: 'POST',
    path: (t, a) => `/tenants/${t}/apps/${a}/pause`,
    body: 'empty',
  },
  {
    method: 'POST',
    path: (t, a) => `/tenants/${t}/apps/${a}/resume`,
    body: 'empty',
  },
  {
    method: 'POST',
    path: (t, a) => `/tenants/${t}/apps/${a}/redeploy`,
    body: 'empty',
  },
  {
    method: 'POST',
    path: (t, a) => `/tenants/${t}/apps/${a}/rollback`,
    body: 'rollback',
  },
  {
    method: 'PUT',
    path: (t, a) => `/tenants/${t}/apps/${a}/domains/fuzz.example.com`,
    body: 'domain',
  },
  // Deletes only in forms that must be refused (a body, a stale
  // generation), so the fuzzed tenants stay for the rest of the run.
  {
    method: 'DELETE',
    path: t => `/tenants/${t}?expectedGeneration=999999`,
    body: 'empty',
  },
  {
    method: 'DELETE',
    path: (t, a) => `/tenants/${t}/apps/${a}?expectedGeneration=999999`,
    body: 'empty',
  },
];

const contentTypes = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 8 },
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-7',
    'text/plain',
    'application/x-www-form-urlencoded',
    undefined,
  ),
  fc.string({ maxLength: 30 }),
);

/** Picks from `values` with the given weights. */
const weighted = <T>(...choices: Array<[T, number]>) =>
  fc.oneof(
    ...choices.map(([value, weight]) => ({
      arbitrary: fc.constant(value),
      weight,
    })),
  );

const request = fc
  .record({
    endpoint: fc.constantFrom(...endpoints),
    tenant: fc.oneof({ arbitrary: fc.constant('fz'), weight: 3 }, names),
    app: fc.oneof({ arbitrary: fc.constant('web'), weight: 3 }, names),
    encodePath: fc.boolean(),
    caller: weighted<string>(['alice', 6], ['bob', 1], ['none', 1], ['bad', 1]),
    contentType: contentTypes,
    encoding: weighted<string>(
      ['none', 8],
      ['gzip', 1],
      ['broken-gzip', 1],
      ['br', 1],
    ),
    shape: weighted<string>(
      ['valid', 3],
      ['mutated', 4],
      ['json', 1],
      ['text', 1],
      ['none', 1],
    ),
    json,
    text: fc.string({ maxLength: 200 }),
  })
  .chain(r =>
    mutated(validBodies[r.endpoint.body]).map(mutation => ({ ...r, mutation })),
  );

describe('fuzzing every write endpoint', () => {
  it('answers no 5xx, a JSON error for every 4xx, and changes nothing when it refuses', async () => {
    const started = Date.now();
    let sent = 0;
    // Nothing changes between requests but what a request did (and the
    // sync bookkeeping, left out), so each snapshot is the next one's before.
    await applied();
    let before = await snapshot();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async r => {
        const enc = (s: string) => (r.encodePath ? encodeURIComponent(s) : s);
        const url = `/api/paved${r.endpoint.path(enc(r.tenant), enc(r.app))}`;
        let body: Buffer | string | undefined;
        if (r.shape === 'valid')
          body = JSON.stringify(validBodies[r.endpoint.body]);
        if (r.shape === 'mutated') body = JSON.stringify(r.mutation);
        if (r.shape === 'json') body = JSON.stringify(r.json);
        if (r.shape === 'text') body = r.text;
        if (r.endpoint.method === 'DELETE' && body === undefined) body = '{}';
        const headers: Record<string, string> = {};
        if (r.contentType !== undefined)
          headers['content-type'] = r.contentType;
        if (body !== undefined && r.encoding !== 'none') {
          headers['content-encoding'] =
            r.encoding === 'broken-gzip' ? 'gzip' : r.encoding;
          if (r.encoding === 'gzip') body = zlib.gzipSync(body);
          if (r.encoding === 'br') body = zlib.brotliCompressSync(body);
        }
        if (r.caller === 'alice') headers.authorization = backend.as(ALICE);
        if (r.caller === 'bob') headers.authorization = backend.as(BOB);
        if (r.caller === 'bad') headers.authorization = 'Bearer not-a-token';

        let res;
        try {
          res = await rawRequest(
            backend.server,
            r.endpoint.method,
            url,
            headers,
            body,
          );
        } catch (error: any) {
          // Node refuses to send some paths (unescaped characters) or
          // header values: nothing reached the API.
          if (
            error?.code === 'ERR_UNESCAPED_CHARACTERS' ||
            error?.code === 'ERR_INVALID_CHAR'
          )
            return;
          throw error;
        }
        sent++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const what = {
          method: r.endpoint.method,
          url,
          headers,
          body: String(body).slice(0, 200),
        };
        expect({ ...what, status: res.status < 500 }).toEqual({
          ...what,
          status: true,
        });
        const refused = res.status >= 400;
        // Deletes are sent only in forms that must be refused.
        expect({ ...what, refused }).toEqual({
          ...what,
          refused: r.endpoint.method === 'DELETE' ? true : refused,
        });
        expect({
          ...what,
          problems: refused ? errorBodyProblems(res) : [],
        }).toEqual({
          ...what,
          problems: [],
        });
        const after = await snapshot();
        // A refused request changed nothing.
        expect({ ...what, after: refused ? after : before }).toEqual({
          ...what,
          after: before,
        });
        if (!refused) {
          await applied();
          before = await snapshot();
        }
      }),
      {
        numRuns: 100_000,
        // Runs share the backend's state: a shrunk replay would compare
        // against state the failed run left, so report the first failure.
        endOnFailure: true,
        interruptAfterTimeLimit: FUZZ_MS,
        markInterruptAsFailure: false,
      },
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    // eslint-disable-next-line no-console
    console.log(
      `fuzz: ${sent} requests in ${seconds} s; statuses ${[...statuses]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}×${n}`)
        .join(', ')}`,
    );
    expect(sent).toBeGreaterThan(100);
    // Some fuzzed writes must be accepted, or the run proved little.
    expect([...statuses.keys()].some(s => s < 300)).toBe(true);
  });
});
