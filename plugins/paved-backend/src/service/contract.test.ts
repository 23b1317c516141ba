/**
 * The API's contract at its edges, against a real kube-apiserver: strict
 * request framing, a JSON error body for everything that fails, and limits
 * that keep every accepted write small enough for the cluster to store.
 */
import { eventually, useTestCluster } from '@paved/test-cluster';
import { ENV_TOTAL_MAX_BYTES } from '@paved/plugin-paved-common';
import { TestDatabases } from '@backstage/backend-test-utils';
import fs from 'fs';
import os from 'os';
import path from 'path';
import zlib from 'zlib';
import {
  ALICE,
  PavedTestBackend,
  TEAM_A,
  startPavedBackend,
} from '../testUtils/backend';
import { APPS, KubeClient, NAMESPACES } from '@paved/kube';
import { MAX_BODY_BYTES } from './framing';
import { rawRequest } from '../__testUtils__/rawRequest';
import { mustAnswer } from '../__testUtils__/mustAnswer';
import {
  FinalizerStandIn,
  startFinalizerStandIn,
} from '../testUtils/finalizerStandIn';

jest.setTimeout(300_000);

const cluster = useTestCluster({
  knative: false,
  capsule: false,
  cilium: false,
});
const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

let backend: PavedTestBackend;
let admin: KubeClient;
let finalizers: FinalizerStandIn | undefined;
let kubeconfigDir: string;

const APP = '/api/paved/tenants/edge/apps/web';
const api = () => backend.request;
const alice = () => backend.as(ALICE);

beforeAll(async () => {
  admin = await KubeClient.fromKubeConfig(cluster().kubeConfig);
  // No operator runs here: deleted CRs lose its finalizer.
  finalizers = await startFinalizerStandIn(admin);
  kubeconfigDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paved-contract-'));
  const kubeconfig = path.join(kubeconfigDir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, cluster().kubeConfig.exportConfig());
  backend = await startPavedBackend({
    knex: await databases.init('SQLITE_3'),
    config: { paved: { kubernetes: { kubeconfig } } },
  });
  const tenant = await api()
    .post('/api/paved/tenants')
    .set('authorization', alice())
    .send({ name: 'edge', displayName: 'Edge', owner: TEAM_A, plan: 'pro' });
  mustAnswer('create the tenant', tenant, 201);
  // The operator would create the namespace; none runs here.
  await admin.create(NAMESPACES, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'tenant-edge' },
  });
  const app = await api()
    .put(APP)
    .set('authorization', alice())
    .send({ image: 'web:1' });
  mustAnswer('deploy the app', app, 201);
});

afterAll(async () => {
  await finalizers?.stop();
  await backend?.stop();
  if (kubeconfigDir) fs.rmSync(kubeconfigDir, { recursive: true, force: true });
});

/** A request as Alice with exactly these headers and bytes. */
const raw = (
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: Buffer | string,
  options?: { chunked?: boolean },
) =>
  rawRequest(
    backend.server,
    method,
    url,
    { authorization: alice(), ...headers },
    body,
    options,
  );

async function appNow() {
  const res = await api().get(APP).set('authorization', alice());
  return { image: res.body.image, generation: res.body.sync.generation };
}

function expectJsonError(res: { status: number; body: any }, status: number) {
  expect(res.status).toBe(status);
  expect(typeof res.body).toBe('object');
  expect(res.body.response).toEqual({ statusCode: status });
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.stack).toBeUndefined();
}

describe('request framing', () => {
  const writes: Array<[string, string, unknown]> = [
    ['PUT', APP, { image: 'web:2' }],
    ['PATCH', `${APP}/env`, { set: [{ name: 'A', value: '1' }] }],
    ['POST', `${APP}/pause`, { expectedGeneration: 999 }],
    ['POST', `${APP}/resume`, { expectedGeneration: 999 }],
    ['POST', `${APP}/redeploy`, { expectedGeneration: 999 }],
    ['POST', `${APP}/rollback`, { revision: 1 }],
    ['PATCH', '/api/paved/tenants/edge', { displayName: 'Changed' }],
    [
      'POST',
      '/api/paved/tenants',
      { name: 'other', displayName: 'O', owner: TEAM_A },
    ],
  ];
  const refusedTypes: Array<[string, RegExp]> = [
    [
      'text/plain',
      /Content-Type "text\/plain" is not accepted; send JSON with Content-Type: application\/json/,
    ],
    [
      'application/x-www-form-urlencoded',
      /Content-Type "application\/x-www-form-urlencoded" is not accepted/,
    ],
    [
      'multipart/form-data; boundary=x',
      /Content-Type "multipart\/form-data" is not accepted/,
    ],
    [
      'application/json; charset=utf-7',
      /Charset "utf-7" is not accepted; send the JSON body in UTF-8/,
    ],
    [
      'application/json; charset=iso-8859-1',
      /Charset "iso-8859-1" is not accepted/,
    ],
  ];

  it.each(writes)(
    '%s %s refuses bodies that are not application/json in UTF-8 with 415, and changes nothing',
    async (method, url, body) => {
      const before = await appNow();
      for (const [type, message] of refusedTypes) {
        const res = await raw(
          method,
          url,
          { 'content-type': type },
          JSON.stringify(body),
        );
        expectJsonError(res, 415);
        expect({ type, message: res.body.error.message }).toEqual({
          type,
          message: expect.stringMatching(message),
        });
      }
      const none = await raw(method, url, {}, JSON.stringify(body));
      expectJsonError(none, 415);
      expect(none.body.error.message).toMatch(/no Content-Type/);
      expect(await appNow()).toEqual(before);
    },
  );

  it('accepts application/json with charset=utf-8, and says which body is missing', async () => {
    const ok = await raw(
      'POST',
      `${APP}/pause`,
      { 'content-type': 'application/json; charset=UTF-8' },
      '{}',
    );
    expect(ok.status).toBe(200);
    const resumed = await raw('POST', `${APP}/resume`, {});
    expect(resumed.status).toBe(200);
    const noBody = await raw('PUT', APP, {});
    expectJsonError(noBody, 400);
    expect(noBody.body.error.message).toBe(
      'Invalid deploy request: the request has no body; send a JSON object with Content-Type: application/json',
    );
    const deleteWithBody = await raw(
      'DELETE',
      APP,
      { 'content-type': 'application/json' },
      '{}',
    );
    expectJsonError(deleteWithBody, 400);
    expect(deleteWithBody.body.error.message).toMatch(
      /DELETE takes no request body.*expectedGeneration as a query parameter/,
    );
  });

  it('holds the size limit for chunked and compressed bodies, with a message that gives the limit', async () => {
    const before = await appNow();
    const big = JSON.stringify({
      image: 'web:9',
      env: [{ name: 'X', value: 'x'.repeat(MAX_BODY_BYTES) }],
    });
    const chunked = await raw(
      'PUT',
      APP,
      { 'content-type': 'application/json' },
      big,
      {
        chunked: true,
      },
    );
    expectJsonError(chunked, 413);
    expect(chunked.body.error.message).toBe(
      `The request body is over the limit of ${MAX_BODY_BYTES} bytes; send less env data or fewer domains per request`,
    );
    const gzipped = zlib.gzipSync(big);
    expect(gzipped.length).toBeLessThan(10_000);
    const compressed = await raw(
      'PUT',
      APP,
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      gzipped,
    );
    expectJsonError(compressed, 413);
    expect(compressed.body.error.message).toMatch(
      `over the limit of ${MAX_BODY_BYTES} bytes once decompressed`,
    );
    const notGzip = await raw(
      'PUT',
      APP,
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      '{"image":"web:9"}',
    );
    expectJsonError(notGzip, 400);
    expect(notGzip.body.error.message).toMatch(
      /not valid gzip data .*; compress it again or send it uncompressed/,
    );
    const brotli = await raw(
      'PUT',
      APP,
      { 'content-type': 'application/json', 'content-encoding': 'br' },
      zlib.brotliCompressSync('{"image":"web:9"}'),
    );
    expectJsonError(brotli, 415);
    expect(brotli.body.error.message).toMatch(
      /Content-Encoding "br" is not accepted/,
    );
    const small = await raw(
      'PUT',
      APP,
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      zlib.gzipSync(JSON.stringify({ image: before.image })),
    );
    expect(small.status).toBe(200);
  });
});

describe('errors', () => {
  it('answers unknown routes with a JSON 404 and wrong methods with 405 and Allow', async () => {
    const unknown = await raw('GET', '/api/paved/nothing/here', {});
    expectJsonError(unknown, 404);
    expect(unknown.body.error.message).toBe(
      'No API route GET /api/paved/nothing/here; the routes are listed in /api/paved/openapi.json',
    );
    const wrong = await raw(
      'POST',
      APP,
      { 'content-type': 'application/json' },
      '{}',
    );
    expectJsonError(wrong, 405);
    expect(wrong.headers.allow).toBe('DELETE, GET, HEAD, PUT');
    expect(wrong.body.error.message).toBe(
      `POST is not allowed on ${APP}; use DELETE, GET, HEAD, PUT`,
    );
    const listWrong = await raw('DELETE', '/api/paved/tenants', {});
    expectJsonError(listWrong, 405);
    expect(listWrong.headers.allow).toBe('GET, HEAD, POST');
  });

  it('says what to fix for a malformed path, and echoes long input only clipped', async () => {
    const percent = await raw('GET', '/api/paved/tenants/%', {});
    expectJsonError(percent, 400);
    expect(percent.body.error.message).toMatch(/percent/i);
    const long = 'a'.repeat(5000);
    const res = await raw(
      'POST',
      '/api/paved/tenants',
      { 'content-type': 'application/json' },
      JSON.stringify({ name: long, displayName: 'L', owner: TEAM_A }),
    );
    expectJsonError(res, 400);
    expect(res.body.error.message).toMatch(/"a{48}…" \(5000 characters\)/);
    expect(res.body.error.message.length).toBeLessThan(400);
  });
});

describe('size limits', () => {
  it('refuses with 413 the write that would take an app over the env limit, and every accepted one reaches the cluster', async () => {
    const chunk = 'v'.repeat(30 * 1024);
    let accepted = 0;
    let refused: any;
    for (let i = 0; i < 10 && !refused; i++) {
      const res = await api()
        .patch(`${APP}/env`)
        .set('authorization', alice())
        .send({
          set: [{ name: `BIG_${i}`, value: chunk, secret: i % 2 === 1 }],
        });
      if (res.status === 200) accepted++;
      else refused = res;
    }
    // 30 KiB a var: four fit in 128 KiB, the fifth does not.
    expect(accepted).toBe(Math.floor(ENV_TOTAL_MAX_BYTES / (chunk.length + 5)));
    expectJsonError(refused, 413);
    expect(refused.body.error.message).toMatch(
      `over the limit of ${ENV_TOTAL_MAX_BYTES} bytes per app`,
    );
    // What was accepted is in the cluster: the App carries every var.
    const view = await eventually('last accepted write applied', async () => {
      const res = await api().get(APP).set('authorization', alice());
      return !res.body.sync.pending && res.body;
    });
    expect(view.sync.lastError).toBeUndefined();
    const cr = await admin.get<any>(APPS, 'web', 'tenant-edge');
    expect(
      cr.spec.env.filter((e: any) => e.name.startsWith('BIG_')),
    ).toHaveLength(accepted);
  });
});
