/**
 * The operator's Prometheus metrics. Each operator instance has its own
 * registry, so two instances can run in one process (as the tests do).
 */
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({
    name: 'paved_reconcile_total',
    help: 'Reconciles run, by controller and result (success, error, requeue)',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'paved_reconcile_errors_total',
    help: 'Reconciles that failed and were retried with backoff',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'paved_reconcile_duration_seconds',
    help: 'Time spent in one reconcile',
    labelNames: ['controller'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'paved_workqueue_depth',
    help: 'Keys waiting in the work queue',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly queueRetries = new Counter({
    name: 'paved_workqueue_retries_total',
    help: 'Keys re-queued with backoff after a failure',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'paved_leader',
    help: '1 while this instance holds the leader lease',
    registers: [this.registry],
  });
  readonly apiRequests = new Counter({
    name: 'paved_api_requests_total',
    help: 'Requests to the Kubernetes API (watches not included), by method and kind',
    labelNames: ['method', 'resource'] as const,
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'paved_informer_watch_restarts_total',
    help: 'Watches restarted after an error, a stall or 410 Gone',
    labelNames: ['resource', 'reason'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) {
      collectDefaultMetrics({ register: this.registry });
    }
  }

  /** The hooks a controller's work queue reports through. */
  forQueue(controller: string) {
    return {
      depth: (n: number) => this.queueDepth.set({ controller }, n),
      retry: () => this.queueRetries.inc({ controller }),
    };
  }
}
