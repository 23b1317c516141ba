/*
 * OpenTelemetry for Paved's Backstage backend, loaded before anything else
 * (`backstage-cli package start --require ./src/instrumentation.js`, or
 * `node --require` in an image), as Backstage's "Setup OpenTelemetry"
 * tutorial does: the metrics that plugins make through Backstage's
 * metrics service (Paved's `paved_*`, the catalog's, the scheduler's, …)
 * are served for Prometheus on http://0.0.0.0:$PAVED_BACKEND_METRICS_PORT/metrics
 * (9464, the exporter's default; 0 turns it off).
 */
const { isMainThread } = require('node:worker_threads');

const port = Number(process.env.PAVED_BACKEND_METRICS_PORT ?? 9464);

// Worker threads load this file too; one exporter per process.
if (isMainThread && port > 0) {
  const { metrics } = require('@opentelemetry/api');
  const { MeterProvider } = require('@opentelemetry/sdk-metrics');
  const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus');
  const exporter = new PrometheusExporter({ port }, error => {
    if (error) {
      console.warn(
        `Backend metrics are not served: port ${port} (PAVED_BACKEND_METRICS_PORT): ${error.message}`,
      );
    }
  });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
}
