import http from 'http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body parsed as JSON, or the text when it is not JSON. */
  body: any;
}

/**
 * Sends exactly the given method, path, headers and bytes (supertest would
 * add a Content-Type and re-encode the body); `chunked` sends the body in
 * pieces without Content-Length.
 */
export function rawRequest(
  server: http.Server,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer | string,
  options: { chunked?: boolean } = {},
): Promise<RawResponse> {
  const address = server.address() as { port: number };
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: address.port,
        method,
        path,
        headers: {
          ...headers,
          ...(body !== undefined && !options.chunked
            ? { 'content-length': String(Buffer.byteLength(body)) }
            : {}),
        },
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // left as text; callers assert it should have been JSON
          }
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: parsed,
          });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) {
      if (options.chunked) {
        const buffer = Buffer.from(body);
        for (let i = 0; i < buffer.length; i += 64 * 1024) {
          req.write(buffer.subarray(i, i + 64 * 1024));
        }
      } else {
        req.write(body);
      }
    }
    req.end();
  });
}
