import net from 'node:net';
import http from 'node:http';
import { TestCluster } from '@paved/test-cluster';
import { KubeClient } from './client';
import { connectionFromKubeConfigFile, KubeConnection } from './kubeconfig';
import { parseProxyUrl } from './proxy';
import { NAMESPACES } from './resources';
import { startControlPlane } from './__testUtils__/controlPlane';

jest.setTimeout(180_000);

/** A real HTTP CONNECT proxy that counts the tunnels it opened. */
async function connectProxy() {
  const state = { tunnels: 0, targets: [] as string[] };
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => {
    res.writeHead(405).end('CONNECT only');
  });
  server.on('connect', (req, client: net.Socket, head: Buffer) => {
    state.tunnels += 1;
    state.targets.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    sockets.add(client);
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    state,
    url: `http://127.0.0.1:${port}`,
    close: () => {
      sockets.forEach(s => s.destroy());
      server.closeAllConnections();
      server.close();
    },
  };
}

/** A real SOCKS5 proxy (no auth, CONNECT to IPv4 or a name) that counts tunnels. */
async function socksProxy() {
  const state = { tunnels: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer(client => {
    sockets.add(client);
    client.on('error', () => undefined);
    client.once('data', () => {
      client.write(Buffer.from([5, 0]));
      client.once('data', (req: Buffer) => {
        let host: string;
        let offset: number;
        if (req[3] === 1) {
          host = `${req[4]}.${req[5]}.${req[6]}.${req[7]}`;
          offset = 8;
        } else {
          const len = req[4];
          host = req.subarray(5, 5 + len).toString();
          offset = 5 + len;
        }
        const port = req.readUInt16BE(offset);
        state.tunnels += 1;
        const upstream = net.connect(port, host, () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          upstream.pipe(client);
          client.pipe(upstream);
        });
        sockets.add(upstream);
        upstream.on('error', () => client.destroy());
      });
    });
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    state,
    url: `socks5://127.0.0.1:${port}`,
    close: () => {
      sockets.forEach(s => s.destroy());
      server.close();
    },
  };
}

describe('proxy-url', () => {
  let cluster: TestCluster;
  let admin: KubeConnection;

  beforeAll(async () => {
    cluster = await startControlPlane();
    admin = connectionFromKubeConfigFile(cluster.kubeconfigPath);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function listAndWatch(client: KubeClient) {
    const list = await client.list(NAMESPACES);
    const seen: string[] = [];
    const controller = new AbortController();
    await client.watch(NAMESPACES, {
      resourceVersion: '0',
      timeoutSeconds: 5,
      stallTimeoutMs: 10_000,
      signal: controller.signal,
      onEvent: event => {
        seen.push(event.object.metadata.name);
        if (event.type === 'ADDED' && event.object.metadata.name === 'default')
          controller.abort();
      },
    });
    return { names: list.items.map(i => i.metadata.name), seen };
  }

  it('sends requests and watches through an HTTP CONNECT proxy, with the TLS options inside the tunnel', async () => {
    const proxy = await connectProxy();
    const client = await KubeClient.fromKubeConfig({
      ...admin,
      proxyUrl: proxy.url,
    });
    try {
      const { names, seen } = await listAndWatch(client);
      expect(names).toContain('default');
      expect(seen).toContain('default');
      expect(proxy.state.tunnels).toBeGreaterThanOrEqual(1);
      expect(proxy.state.targets[0]).toBe(new URL(cluster.server).host);
    } finally {
      client.close();
      proxy.close();
    }
  });

  it('fails through the proxy when the tunnelled server is not trusted (the CA applies inside)', async () => {
    const proxy = await connectProxy();
    const client = await KubeClient.fromKubeConfig({
      ...admin,
      ca: undefined,
      proxyUrl: proxy.url,
    });
    try {
      await expect(client.list(NAMESPACES)).rejects.toThrow(/certificate/);
      expect(proxy.state.tunnels).toBe(1);
    } finally {
      client.close();
      proxy.close();
    }
  });

  it('sends requests and watches through a SOCKS5 proxy', async () => {
    const proxy = await socksProxy();
    const client = await KubeClient.fromKubeConfig({
      ...admin,
      proxyUrl: proxy.url,
    });
    try {
      const { names, seen } = await listAndWatch(client);
      expect(names).toContain('default');
      expect(seen).toContain('default');
      expect(proxy.state.tunnels).toBeGreaterThanOrEqual(1);
    } finally {
      client.close();
      proxy.close();
    }
  });

  it('without proxy-url connects directly', async () => {
    const proxy = await connectProxy();
    const client = await KubeClient.fromKubeConfig(admin);
    try {
      await client.list(NAMESPACES);
      expect(proxy.state.tunnels).toBe(0);
    } finally {
      client.close();
      proxy.close();
    }
  });
});

describe('parseProxyUrl', () => {
  it('accepts http, https, socks5 and socks5h', () => {
    for (const u of [
      'http://p:3128',
      'https://p:443',
      'socks5://p:1080',
      'socks5h://p:1080',
    ]) {
      expect(parseProxyUrl(u, 'c').href).toBe(new URL(u).href);
    }
  });
  it('refuses other schemes and non-URLs, saying what to write', () => {
    expect(() => parseProxyUrl('ftp://p', 'kubeconfig cluster "x"')).toThrow(
      'kubeconfig cluster "x": proxy-url "ftp://p" has the scheme "ftp"; use http, https, socks5 or socks5h',
    );
    expect(() => parseProxyUrl('not a url', 'c')).toThrow(
      /is not a URL; write it like http:\/\/proxy:3128/,
    );
  });
});
