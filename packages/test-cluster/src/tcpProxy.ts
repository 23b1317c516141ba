/**
 * A loopback TCP proxy in front of the API server, so tests can break the
 * connections an informer holds (`dropAll`) or make them go silent
 * (`freezeAll`) the way a dead load balancer or a half-open socket would.
 */
import * as net from 'node:net';

export class TcpProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<{
    client: net.Socket;
    upstream: net.Socket;
  }>();
  private readonly frozen: net.Socket[] = [];
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.server = net.createServer(client => {
      const upstream = net.connect(target.port, target.host);
      const pair = { client, upstream };
      this.pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      const close = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', close);
      client.on('close', close);
      upstream.on('close', close);
    });
  }

  async start(): Promise<number> {
    await new Promise<void>(resolve =>
      this.server.listen(0, '127.0.0.1', () => resolve()),
    );
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  get connections(): number {
    return this.pairs.size;
  }

  /** Resets every proxied connection, as a network failure would. */
  dropAll(): void {
    for (const { client, upstream } of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Stops forwarding on current connections without closing them. */
  freezeAll(): void {
    for (const { client, upstream } of this.pairs) {
      upstream.unpipe(client);
      client.unpipe(upstream);
      upstream.pause();
      client.pause();
      this.frozen.push(client, upstream);
    }
    this.pairs.clear();
  }

  async stop(): Promise<void> {
    this.dropAll();
    for (const socket of this.frozen.splice(0)) socket.destroy();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }
}
