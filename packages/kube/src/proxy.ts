/**
 * The agent for the API server, direct or through a kubeconfig cluster's
 * `proxy-url` (client-go's `http.ProxyURL`): `http://` and `https://`
 * proxies (HTTP CONNECT for an https API server, a forwarding proxy for an
 * http one) and `socks5://` / `socks5h://`. The TLS options (CA, client
 * certificate, servername, skip-verify) apply to the API server's
 * connection inside the tunnel. Without `proxy-url` the environment's
 * HTTPS_PROXY / NO_PROXY are not read (client-go would; see the README).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { SocksProxyAgent } from 'socks-proxy-agent';

const PROXY_PROTOCOLS = ['http:', 'https:', 'socks5:', 'socks5h:'];

/** Checks a `proxy-url`; throws naming what to fix. */
export function parseProxyUrl(value: unknown, where: string): URL {
  if (typeof value !== 'string' || !value) {
    throw new Error(`${where}: proxy-url must be a URL string`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(
      `${where}: proxy-url "${value}" is not a URL; write it like http://proxy:3128 or socks5://proxy:1080`,
    );
  }
  if (!PROXY_PROTOCOLS.includes(url.protocol)) {
    throw new Error(
      `${where}: proxy-url "${value}" has the scheme "${url.protocol.replace(
        ':',
        '',
      )}"; use http, https, socks5 or socks5h`,
    );
  }
  return url;
}

/**
 * https-proxy-agent keeps its constructor's options for the connection to
 * the proxy only (it resets the Agent's own options), so the TLS options
 * for the API server are added to each tunnel's upgrade here.
 */
class TunnelAgent extends HttpsProxyAgent<string> {
  constructor(proxy: URL, private readonly tls: https.AgentOptions) {
    super(proxy, {
      keepAlive: tls.keepAlive,
      maxSockets: tls.maxSockets,
    });
  }

  connect(
    req: http.ClientRequest,
    opts: Parameters<HttpsProxyAgent<string>['connect']>[1],
  ) {
    return super.connect(req, { ...opts, ...this.tls });
  }
}

/**
 * One keep-alive agent for requests to `server`, with `tls` applied to the
 * API server's connection (through the proxy when there is one).
 */
export function createAgent(
  server: URL,
  tls: https.AgentOptions,
  proxyUrl?: string,
): http.Agent {
  const secure = server.protocol === 'https:';
  if (!proxyUrl) {
    return secure
      ? new https.Agent(tls)
      : new http.Agent({
          keepAlive: tls.keepAlive,
          maxSockets: tls.maxSockets,
        });
  }
  const proxy = parseProxyUrl(proxyUrl, 'kubeconfig cluster');
  if (proxy.protocol === 'socks5:' || proxy.protocol === 'socks5h:') {
    return new SocksProxyAgent(proxy, tls);
  }
  return secure ? new TunnelAgent(proxy, tls) : new HttpProxyAgent(proxy, tls);
}
