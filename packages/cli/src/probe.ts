/**
 * Requests an app's URL the way a browser on this machine would: a
 * `*.localhost` name goes to 127.0.0.1 (browsers resolve every such name
 * to loopback; Node's resolver may not), and `--ingress HOST:PORT` (or
 * PAVED_INGRESS) sends the request to the ingress there with the URL's
 * host in the Host header, for an ingress on another port or with no DNS.
 */
import http from 'node:http';
import https from 'node:https';

export interface Ingress {
  host: string;
  port: number;
}

export interface ProbeResult {
  status: number;
  body: string;
}

/** Parses `HOST:PORT`, `:PORT` or `PORT`; undefined when it is not one. */
export function parseIngress(value: string): Ingress | undefined {
  const match = /^(?:(\[[^\]]+\]|[^:]+)?:)?(\d{1,5})$/.exec(value.trim());
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

function isLoopbackName(hostname: string) {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

/**
 * The URL to show the user: with the ingress's port when the ingress is on
 * this machine, so that the printed URL opens in a browser as it is.
 */
export function displayUrl(url: string, ingress?: Ingress): string {
  if (!ingress) return url;
  const parsed = new URL(url);
  const local = ['127.0.0.1', 'localhost', '::1'].includes(ingress.host);
  if (!local || !isLoopbackName(parsed.hostname)) return url;
  const standard = parsed.protocol === 'https:' ? 443 : 80;
  if (ingress.port === standard) return url;
  parsed.port = String(ingress.port);
  return parsed.toString().replace(/\/$/, '');
}

/** One GET of `url` (plus `path`), with a timeout; rejects on network errors. */
export function probe(
  url: string,
  options: { ingress?: Ingress; path?: string; timeoutMs?: number } = {},
): Promise<ProbeResult> {
  const target = new URL(options.path ?? '/', url);
  const secure = target.protocol === 'https:';
  const defaultPort = secure ? 443 : 80;
  let host = target.hostname.replace(/^\[|\]$/g, '');
  let port = target.port ? Number(target.port) : defaultPort;
  if (options.ingress) {
    host = options.ingress.host;
    port = options.ingress.port;
  } else if (isLoopbackName(target.hostname)) {
    host = '127.0.0.1';
  }
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).get(
      {
        host,
        port,
        path: `${target.pathname}${target.search}`,
        headers: { host: target.host, 'user-agent': 'paved-cli' },
        servername: secure ? target.hostname : undefined,
        timeout: options.timeoutMs ?? 10_000,
      },
      response => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', chunk => {
          if (body.length < 4096) body += chunk;
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('timed out')));
  });
}

/**
 * Whether an answer came from the app rather than from the networking
 * layer: Traefik answers 404 for a route not programmed yet, and the
 * activator and the ingress 502/503/504 while a revision wakes.
 */
export function answeredByApp(result: ProbeResult): boolean {
  return ![404, 502, 503, 504].includes(result.status);
}
