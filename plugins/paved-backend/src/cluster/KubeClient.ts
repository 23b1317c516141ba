import * as k8s from '@kubernetes/client-node';
import http from 'http';
import https from 'https';

/** An error answered by the API server, or a failure to reach it. */
export class KubeError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 0 when the API server could not be reached. */
    readonly code: number,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

export interface WatchEvent<T = any> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/**
 * The few calls Paved makes to the API server, over node's http(s) with the
 * credentials and TLS settings of a kubeconfig. Small on purpose: server-side
 * apply, get, delete, list and a watch stream whose lifetime the caller owns.
 */
export class KubeClient {
  readonly server: string;

  constructor(
    private readonly kubeConfig: k8s.KubeConfig,
    private readonly timeoutMs = 10_000,
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) {
      throw new Error('The kubeconfig has no current cluster');
    }
    this.server = cluster.server.replace(/\/$/, '');
  }

  private async options(
    method: string,
    path: string,
    headers: Record<string, string>,
  ): Promise<https.RequestOptions> {
    const url = new URL(this.server + path);
    const options: https.RequestOptions = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers: { accept: 'application/json', ...headers },
    };
    await this.kubeConfig.applyToHTTPSOptions(options);
    return options;
  }

  private transport(options: https.RequestOptions) {
    return options.protocol === 'http:' ? http : https;
  }

  /** One request; resolves with the parsed body, throws KubeError otherwise. */
  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const options = await this.options(
      method,
      path,
      payload === undefined
        ? {}
        : {
            'content-type': contentType,
            'content-length': String(Buffer.byteLength(payload)),
          },
    );
    return new Promise<T>((resolve, reject) => {
      const req = this.transport(options).request(options, res => {
        const chunks: Buffer[] = [];
        res.on('data', chunk => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: any;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve(parsed as T);
          } else {
            reject(
              new KubeError(
                `${method} ${path}: ${status} ${parsed?.message ?? text}`,
                status,
                parsed?.reason,
              ),
            );
          }
        });
      });
      req.setTimeout(this.timeoutMs, () => {
        req.destroy(
          new KubeError(
            `${method} ${path}: no answer in ${this.timeoutMs}ms`,
            0,
          ),
        );
      });
      req.on('error', error => {
        reject(
          error instanceof KubeError
            ? error
            : new KubeError(`${method} ${path}: ${error.message}`, 0),
        );
      });
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** Server-side apply with Paved's field manager. */
  apply<T = any>(path: string, object: unknown, fieldManager: string) {
    const query = `?fieldManager=${encodeURIComponent(
      fieldManager,
    )}&force=true`;
    return this.request<T>(
      'PATCH',
      path + query,
      object,
      'application/apply-patch+yaml',
    );
  }

  /**
   * Streams a watch until it ends, fails or `signal` aborts. Resolves when the
   * server closes the stream; rejects on a transport error or HTTP error.
   */
  async watch(
    path: string,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const options = await this.options('GET', path, {});
    // Aborted before the request exists: the listener below would never
    // fire, and the watch would run to its server-side timeout.
    if (signal.aborted) return;
    await new Promise<void>((resolve, reject) => {
      const req = this.transport(options).request(options, res => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          res.resume();
          reject(new KubeError(`watch ${path}: ${status}`, status));
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let newline = buffered.indexOf('\n');
          while (newline >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (line) {
              try {
                onEvent(JSON.parse(line));
              } catch (error) {
                req.destroy(error as Error);
                return;
              }
            }
            newline = buffered.indexOf('\n');
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
        res.on('close', () => resolve());
      });
      const abort = () => req.destroy();
      signal.addEventListener('abort', abort, { once: true });
      req.on('close', () => signal.removeEventListener('abort', abort));
      req.on('error', error => {
        if (signal.aborted) resolve();
        else reject(new KubeError(`watch ${path}: ${error.message}`, 0));
      });
      req.end();
    });
  }
}

/**
 * The kubeconfig from `paved.kubernetes`: a file, the in-cluster service
 * account, or `KUBECONFIG`; undefined when none is configured.
 */
export function loadKubeConfig(options: {
  kubeconfigPath?: string;
  inCluster?: boolean;
  env?: NodeJS.ProcessEnv;
}): k8s.KubeConfig | undefined {
  const kc = new k8s.KubeConfig();
  if (options.kubeconfigPath) {
    kc.loadFromFile(options.kubeconfigPath);
    return kc;
  }
  if (options.inCluster) {
    kc.loadFromCluster();
    return kc;
  }
  const fromEnv = (options.env ?? process.env).KUBECONFIG;
  if (fromEnv) {
    kc.loadFromFile(fromEnv.split(':')[0]);
    return kc;
  }
  return undefined;
}
