/**
 * `/healthz` (the process is alive), `/readyz` (the check passes: caches
 * synced, or standing by as a non-leader) and `/metrics` (Prometheus text).
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';

export interface HealthServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  ready: () => boolean;
}

export class HealthServer {
  private server: http.Server | undefined;

  constructor(private readonly options: HealthServerOptions) {}

  async start(): Promise<number> {
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch(error => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '127.0.0.1', () =>
        resolve(),
      );
    });
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>(resolve => server.close(() => resolve()));
  }

  private async handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/livez') {
      res.setHeader('Content-Type', 'text/plain');
      res.end('ok\n');
    } else if (path === '/readyz') {
      const ready = this.options.ready();
      res.statusCode = ready ? 200 : 503;
      res.setHeader('Content-Type', 'text/plain');
      res.end(ready ? 'ok\n' : 'not ready\n');
    } else if (path === '/metrics') {
      res.setHeader('Content-Type', this.options.registry.contentType);
      res.end(await this.options.registry.metrics());
    } else {
      res.statusCode = 404;
      res.end('not found\n');
    }
  }
}
