/**
 * The backend's own metrics, the Backstage way: instruments of the plugin's
 * `metricsServiceRef` (`@backstage/backend-plugin-api/alpha`, OpenTelemetry
 * underneath, meter `backstage-plugin-paved`), exported by whatever
 * OpenTelemetry SDK the Backstage backend starts with (Paved's own backend:
 * `packages/backend/src/instrumentation.js`, a Prometheus endpoint). Without
 * an SDK the instruments record nothing, at no cost.
 *
 * In Prometheus' names:
 * - `paved_api_requests_total{method,route,status_code}`: every answered API
 *   request, `route` the route's template (`/tenants/:tenant/apps/:app`),
 *   `unmatched` for what no route answered;
 * - `paved_api_request_duration_seconds{method,route,status_code}`;
 * - `paved_cluster_sync_runs_total{result}` (ok, error) and
 *   `paved_cluster_sync_objects_total{outcome}` (applied, behind, repaired,
 *   unknown): the periodic full sync of the database to the cluster;
 * - `paved_signals_published_total{kind}` (tenant, app): status hints sent
 *   to open pages.
 */
import type { MetricsService } from '@backstage/backend-plugin-api/alpha';
import type express from 'express';

/** Seconds; a request past 60 s is a long poll (`Prefer: wait`). */
const REQUEST_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

export interface SyncOutcome {
  applied: number;
  behind: number;
  repaired: number;
  unknown: number;
}

export class PavedMetrics {
  private readonly requests;
  private readonly requestDuration;
  private readonly syncRuns;
  private readonly syncObjects;
  private readonly signals;

  constructor(metrics: MetricsService) {
    this.requests = metrics.createCounter('paved.api.requests', {
      description: 'Paved API requests answered',
    });
    // The unit in the name too: OpenTelemetry's Prometheus exporter does
    // not add it, and Prometheus' convention is `_seconds`.
    this.requestDuration = metrics.createHistogram(
      'paved.api.request.duration.seconds',
      {
        description: 'Time to answer a Paved API request',
        unit: 's',
        advice: { explicitBucketBoundaries: REQUEST_BUCKETS },
      },
    );
    this.syncRuns = metrics.createCounter('paved.cluster.sync.runs', {
      description: 'Full syncs of the database to the cluster',
    });
    this.syncObjects = metrics.createCounter('paved.cluster.sync.objects', {
      description:
        'Objects a full sync applied, found behind, repaired after drift, or left alone as unknown',
    });
    this.signals = metrics.createCounter('paved.signals.published', {
      description: 'Status change signals published to open pages',
    });
  }

  /** Express middleware: counts and times each request once it is answered. */
  requestMiddleware(): express.RequestHandler {
    return (req, res, next) => {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        const attributes = {
          method: req.method,
          // The matched route's template: bounded, and names no tenant.
          route: req.route?.path ? String(req.route.path) : 'unmatched',
          status_code: res.statusCode,
        };
        this.requests.add(1, attributes);
        this.requestDuration.record(
          Number(process.hrtime.bigint() - started) / 1e9,
          attributes,
        );
      });
      next();
    };
  }

  syncRan(outcome: SyncOutcome | 'error'): void {
    if (outcome === 'error') {
      this.syncRuns.add(1, { result: 'error' });
      return;
    }
    this.syncRuns.add(1, { result: 'ok' });
    for (const [key, count] of Object.entries(outcome)) {
      if (count) this.syncObjects.add(count, { outcome: key });
    }
  }

  signalPublished(kind: 'tenant' | 'app'): void {
    this.signals.add(1, { kind });
  }
}
