/**
 * The backend's metrics as a platform team's Prometheus reads them: a real
 * backend with Backstage's own metrics service (`metricsServiceFactory` of
 * `@backstage/backend-defaults/alpha`, as `createBackend` installs it),
 * OpenTelemetry's SDK with its Prometheus exporter registered as the global
 * meter provider (what packages/backend/src/instrumentation.js does), a
 * real kube-apiserver, and the exporter's text scraped over HTTP.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { metricsServiceFactory } from '@backstage/backend-defaults/alpha';
import { KubeClient } from '@paved/kube';
import { eventually, useTestCluster } from '@paved/test-cluster';
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

jest.setTimeout(120_000);

const cluster = useTestCluster({
  knative: false,
  capsule: false,
  cilium: false,
});
const databases = pavedTestDatabases();

/** One sample of the exposition: its labels and value. */
interface Sample {
  labels: Record<string, string>;
  value: number;
}

function samples(text: string, name: string): Sample[] {
  return text
    .split('\n')
    .filter(line => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map(line => {
      const match = /^[^{ ]+(?:\{(.*)\})? (\S+)/.exec(line)!;
      const labels = Object.fromEntries(
        [...(match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(m => [
          m[1],
          m[2],
        ]),
      );
      return { labels, value: Number(match[2]) };
    });
}

describe('the backend metrics, scraped', () => {
  let backend: PavedTestBackend;
  let admin: KubeClient;
  let finalizers: FinalizerStandIn | undefined;
  let exporter: PrometheusExporter;
  let provider: MeterProvider;
  let server: http.Server;

  async function scrape(): Promise<string> {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  }

  beforeAll(async () => {
    exporter = new PrometheusExporter({ preventServerStart: true });
    provider = new MeterProvider({ readers: [exporter] });
    metrics.setGlobalMeterProvider(provider);
    server = http.createServer((req, res) =>
      exporter.getMetricsRequestHandler(req, res),
    );
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));

    admin = await KubeClient.fromKubeConfig(cluster().kubeConfig);
    finalizers = await startFinalizerStandIn(admin);
    backend = await startPavedBackend({
      knex: await databases.init('SQLITE_3'),
      config: {
        paved: { kubernetes: { kubeconfig: cluster().kubeconfigPath } },
      },
      features: [metricsServiceFactory],
    });
  });
  afterAll(async () => {
    await finalizers?.stop();
    await backend?.stop();
    admin?.close();
    server?.close();
    await provider?.shutdown();
    metrics.disable();
  });

  const as = (user: string) => ({ authorization: backend.as(user) });

  it('counts and times each request by method, route template and status', async () => {
    await backend.request
      .post('/api/paved/tenants')
      .set(as(ALICE))
      .send({ name: 'metrics-a', displayName: 'Metrics A', owner: TEAM_A })
      .expect(201);
    await backend.request
      .get('/api/paved/tenants/metrics-a')
      .set(as(ALICE))
      .expect(200);
    await backend.request
      .get('/api/paved/tenants/metrics-a')
      .set(as(ALICE))
      .expect(200);
    // Another team's tenant: the same 404 as a tenant that is not there.
    await backend.request
      .get('/api/paved/tenants/metrics-a')
      .set(as(BOB))
      .expect(404);
    await backend.request
      .get('/api/paved/no-such-route')
      .set(as(ALICE))
      .expect(404);

    const text = await scrape();
    const requests = samples(text, 'paved_api_requests_total');
    const count = (labels: Record<string, string>) =>
      requests
        .filter(s =>
          Object.entries(labels).every(([k, v]) => s.labels[k] === v),
        )
        .reduce((sum, s) => sum + s.value, 0);
    expect(
      count({ method: 'POST', route: '/tenants', status_code: '201' }),
    ).toBe(1);
    expect(
      count({ method: 'GET', route: '/tenants/:tenant', status_code: '200' }),
    ).toBe(2);
    expect(
      count({ method: 'GET', route: '/tenants/:tenant', status_code: '404' }),
    ).toBe(1);
    expect(
      count({ method: 'GET', route: 'unmatched', status_code: '404' }),
    ).toBe(1);
    // No label carries a tenant's name: the series stay bounded.
    expect(text).not.toContain('metrics-a');
    expect(text).toContain('otel_scope_name="backstage-plugin-paved"');

    const durations = samples(
      text,
      'paved_api_request_duration_seconds_count',
    ).filter(
      s => s.labels.route === '/tenants/:tenant' && s.labels.method === 'GET',
    );
    expect(durations.reduce((sum, s) => sum + s.value, 0)).toBe(3);
    const sum = samples(text, 'paved_api_request_duration_seconds_sum').find(
      s => s.labels.route === '/tenants' && s.labels.method === 'POST',
    );
    expect(sum?.value).toBeGreaterThan(0);
    expect(sum?.value).toBeLessThan(60);
  });

  it('counts the full syncs of the database to the cluster', async () => {
    const runs = (text: string) =>
      samples(text, 'paved_cluster_sync_runs_total')
        .filter(s => s.labels.result === 'ok')
        .reduce((sum, s) => sum + s.value, 0);
    // The test backend syncs every second: the count goes on growing.
    const first = await eventually('a full sync to be counted', async () =>
      runs(await scrape()),
    );
    await eventually('the next full sync to be counted', async () => {
      const text = await scrape();
      return runs(text) > first ? text : undefined;
    });
    expect(
      samples(await scrape(), 'paved_cluster_sync_runs_total').filter(
        s => s.labels.result === 'error',
      ),
    ).toEqual([]);
  });
});
