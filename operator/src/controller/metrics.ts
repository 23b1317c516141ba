/**
 * The operator's Prometheus metrics, under the names and labels that
 * controller-runtime (sigs.k8s.io/controller-runtime v0.25: its
 * pkg/internal/controller/metrics, pkg/internal/metrics/workqueue.go,
 * pkg/metrics/leaderelection.go and client_go_adapter.go) gives every Go
 * operator, so that the dashboards and alerts a platform team has for those
 * work unchanged; then the few of Paved's own, prefixed `paved_`. Each
 * operator instance has its own registry, so two instances can run in one
 * process (as the tests do).
 */
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';

/** controller-runtime's buckets for `controller_runtime_reconcile_time_seconds`. */
const RECONCILE_TIME_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
  0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6,
  7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/** The workqueue's: `prometheus.ExponentialBuckets(10e-9, 10, 12)`, 10 ns to 1,000 s. */
const WORKQUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

/** A reconcile's result, as controller-runtime labels it. */
export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after';
const RESULTS: ReconcileResult[] = [
  'success',
  'error',
  'requeue',
  'requeue_after',
];

/** A controller's work queue is named after it, as in controller-runtime. */
function queueLabels(controller: string) {
  return { name: controller, controller };
}

export class OperatorMetrics {
  readonly registry = new Registry();

  // ------------------------------------------------- controller-runtime
  readonly reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'] as const,
    buckets: RECONCILE_TIME_BUCKETS,
    registers: [this.registry],
  });
  readonly maxConcurrentReconciles = new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Maximum number of concurrent reconciles per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });

  // ------------------------------------------- workqueue (name = controller)
  readonly queueDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue by workqueue and priority',
    labelNames: ['name', 'controller', 'priority'] as const,
    registers: [this.registry],
  });
  readonly queueAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: ['name', 'controller'] as const,
    registers: [this.registry],
  });
  readonly queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: ['name', 'controller'] as const,
    buckets: WORKQUEUE_BUCKETS,
    registers: [this.registry],
  });
  readonly workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes.',
    labelNames: ['name', 'controller'] as const,
    buckets: WORKQUEUE_BUCKETS,
    registers: [this.registry],
  });
  readonly queueRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of items added to the workqueue with a non-zero delay (rate-limited requeues, explicit RequeueAfter or AddAfter calls)',
    labelNames: ['name', 'controller'] as const,
    registers: [this.registry],
  });

  // ------------------------------------------ leader election, REST client
  readonly leaderStatus = new Gauge({
    name: 'leader_election_master_status',
    help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease. Please make sure to group by name.",
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly restClientRequests = new Counter({
    name: 'rest_client_requests_total',
    help: 'Number of HTTP requests, partitioned by status code, method, and host.',
    labelNames: ['code', 'method', 'host'] as const,
    registers: [this.registry],
  });

  // --------------------------------------------------------- Paved's own
  readonly apiRequests = new Counter({
    name: 'paved_api_requests_total',
    help: 'Requests to the Kubernetes API (watches not included), by method and resource (rest_client_requests_total has no resource)',
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

  /**
   * A controller's series, made at zero when it starts (as controller-runtime
   * does), so that rates and alerts have a series before the first event.
   */
  forController(controller: string, concurrency: number) {
    for (const result of RESULTS) {
      this.reconcileTotal.inc({ controller, result }, 0);
    }
    this.reconcileErrors.inc({ controller }, 0);
    this.maxConcurrentReconciles.set({ controller }, concurrency);
    this.activeWorkers.set({ controller }, 0);
    const queue = queueLabels(controller);
    this.queueAdds.inc(queue, 0);
    this.queueRetries.inc(queue, 0);
    this.queueDepth.set({ ...queue, priority: '' }, 0);
  }

  /** The hooks a controller's work queue reports through. */
  forQueue(controller: string) {
    const queue = queueLabels(controller);
    return {
      depth: (n: number) => this.queueDepth.set({ ...queue, priority: '' }, n),
      retry: () => this.queueRetries.inc(queue),
      add: () => this.queueAdds.inc(queue),
      queueDuration: (seconds: number) =>
        this.queueDuration.observe(queue, seconds),
      workDuration: (seconds: number) =>
        this.workDuration.observe(queue, seconds),
    };
  }

  /** Counts a finished reconcile under controller-runtime's result names. */
  reconciled(controller: string, result: ReconcileResult) {
    this.reconcileTotal.inc({ controller, result });
    if (result === 'error') this.reconcileErrors.inc({ controller });
  }
}
