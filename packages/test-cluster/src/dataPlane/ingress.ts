import http from 'node:http';
import { DataPlane } from './dataPlane';

export interface IngressResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * GETs an app's URL through the data plane's ingress: connects to Traefik on
 * 127.0.0.1 and sends the URL's host in the Host header, as a browser on
 * this machine would for a `*.localhost` URL. Retries refused connections
 * and 404/502/503 answers (a route not programmed yet, a revision waking)
 * until `timeoutMs`.
 */
export async function requestThroughIngress(
  dataPlane: Pick<DataPlane, 'ingressPort'>,
  url: string,
  options: { timeoutMs?: number; retry?: boolean } = {},
): Promise<IngressResponse> {
  const { host, pathname, search } = new URL(url);
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const response = await new Promise<IngressResponse | Error>(resolve => {
      const request = http.get(
        {
          host: '127.0.0.1',
          port: dataPlane.ingressPort,
          path: `${pathname}${search}`,
          headers: { host },
          timeout: Math.max(1000, deadline - Date.now()),
        },
        res => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', chunk => (body += chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode!, headers: res.headers, body }),
          );
          res.on('error', resolve);
        },
      );
      request.on('error', resolve);
      request.on('timeout', () => request.destroy(new Error('timed out')));
    });
    const retryable =
      response instanceof Error || [404, 502, 503].includes(response.status);
    if (!retryable || options.retry === false) {
      if (response instanceof Error) throw response;
      return response;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${url} did not answer through the ingress on 127.0.0.1:${
          dataPlane.ingressPort
        }: ${
          response instanceof Error
            ? response.message
            : `${response.status} ${response.body.slice(0, 200)}`
        }`,
      );
    }
    await new Promise(r => setTimeout(r, 250));
  }
}
