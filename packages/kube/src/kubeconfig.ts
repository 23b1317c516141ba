/**
 * Where the API server is and how to authenticate, from the in-cluster
 * service account or a kubeconfig file.
 *
 * `@kubernetes/client-node`'s KubeConfig does the same, but loading that
 * package costs the process about 75 MiB of memory (its generated models),
 * more than everything else the operator holds; so the operator reads the
 * few kubeconfig fields it supports itself: a token, a token file, a client
 * certificate, basic auth, an exec credential plugin (./exec) or the oidc
 * auth-provider (./oidc). The auth-providers client-go removed (gcp, azure)
 * are refused, naming the exec plugin that replaces each.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { ExecConfig, parseExecConfig } from './exec';
import { parseProxyUrl } from './proxy';
import { OidcConfig, parseOidcConfig } from './oidc';

export interface KubeConnection {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  /** Re-read on every credential refresh (projected tokens rotate). */
  tokenFile?: string;
  username?: string;
  password?: string;
  skipTLSVerify?: boolean;
  tlsServerName?: string;
  /** The cluster's `proxy-url`: http(s):// (CONNECT) or socks5(h)://. */
  proxyUrl?: string;
  /**
   * An exec credential plugin: the client runs it for a token or a client
   * certificate (over the static fields above) and caches its answer.
   */
  exec?: ExecConfig;
  /** The `oidc` auth-provider: its id-token, refreshed at the issuer (./oidc). */
  oidc?: OidcConfig;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export function inClusterConnection(
  env: NodeJS.ProcessEnv = process.env,
): KubeConnection | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = path.join(SERVICE_ACCOUNT_DIR, 'token');
  if (!host || !port || !fs.existsSync(tokenFile)) return undefined;
  const server = host.includes(':')
    ? `https://[${host}]:${port}`
    : `https://${host}:${port}`;
  return {
    server,
    ca: fs.readFileSync(path.join(SERVICE_ACCOUNT_DIR, 'ca.crt')),
    tokenFile,
  };
}

type Named<T> = { name: string } & T;

interface KubeConfigFile {
  'current-context'?: string;
  contexts?: Named<{ context: { cluster: string; user?: string } }>[];
  clusters?: Named<{
    cluster: {
      server: string;
      'certificate-authority'?: string;
      'certificate-authority-data'?: string;
      'insecure-skip-tls-verify'?: boolean;
      'tls-server-name'?: string;
      'proxy-url'?: string;
      'disable-compression'?: boolean;
      extensions?: Named<{ extension: unknown }>[];
    };
  }>[];
  users?: Named<{
    user?: {
      'client-certificate'?: string;
      'client-certificate-data'?: string;
      'client-key'?: string;
      'client-key-data'?: string;
      token?: string;
      tokenFile?: string;
      username?: string;
      password?: string;
      exec?: unknown;
      'auth-provider'?: unknown;
    };
  }>[];
}

/** Reads the current context of a kubeconfig document. */
export function connectionFromKubeConfigYaml(
  text: string,
  baseDir: string = process.cwd(),
): KubeConnection {
  const config = (parse(text) ?? {}) as KubeConfigFile;
  const contextName = config['current-context'];
  const context = config.contexts?.find(c => c.name === contextName)?.context;
  if (!context) {
    throw new Error(
      `kubeconfig has no current context${
        contextName ? ` named "${contextName}"` : ''
      }; set current-context`,
    );
  }
  const cluster = config.clusters?.find(
    c => c.name === context.cluster,
  )?.cluster;
  if (!cluster?.server) {
    throw new Error(
      `kubeconfig has no cluster "${context.cluster}" with a server`,
    );
  }
  const user = config.users?.find(u => u.name === context.user)?.user ?? {};
  const provider = user['auth-provider'] as
    | { name?: unknown; config?: unknown }
    | undefined;
  let oidc: OidcConfig | undefined;
  if (provider && provider.name === 'oidc') {
    oidc = parseOidcConfig(
      provider.config,
      `kubeconfig user "${context.user}"`,
      baseDir,
    );
  } else if (provider) {
    throw new Error(authProviderMessage(context.user, provider));
  }
  const file = (p: string) => fs.readFileSync(path.resolve(baseDir, p));
  const data = (d: string) => Buffer.from(d, 'base64');
  const pick = (inline?: string, onDisk?: string) => {
    if (inline) return data(inline);
    if (onDisk) return file(onDisk);
    return undefined;
  };
  if (cluster['proxy-url'] !== undefined) {
    parseProxyUrl(
      cluster['proxy-url'],
      `kubeconfig cluster "${context.cluster}"`,
    );
  }
  const ca = pick(
    cluster['certificate-authority-data'],
    cluster['certificate-authority'],
  );
  const exec =
    user.exec === undefined || user.exec === null
      ? undefined
      : parseExecConfig(user.exec, `user "${context.user}"`, baseDir, {
          server: cluster.server,
          'tls-server-name': cluster['tls-server-name'],
          'insecure-skip-tls-verify': cluster['insecure-skip-tls-verify'],
          'certificate-authority-data': ca?.toString('base64'),
          'proxy-url': cluster['proxy-url'],
          'disable-compression': cluster['disable-compression'],
          config: cluster.extensions?.find(
            e => e.name === 'client.authentication.k8s.io/exec',
          )?.extension,
        });
  return {
    server: cluster.server,
    ca,
    cert: pick(user['client-certificate-data'], user['client-certificate']),
    key: pick(user['client-key-data'], user['client-key']),
    token: user.token,
    tokenFile: user.tokenFile
      ? path.resolve(baseDir, user.tokenFile)
      : undefined,
    username: user.username,
    password: user.password,
    skipTLSVerify: cluster['insecure-skip-tls-verify'],
    tlsServerName: cluster['tls-server-name'],
    proxyUrl: cluster['proxy-url'],
    exec,
    oidc,
  };
}

/** The exec plugin that replaces each deprecated auth-provider. */
const AUTH_PROVIDER_REPLACEMENTS: Record<string, string> = {
  gcp: 'gke-gcloud-auth-plugin (gcloud components install gke-gcloud-auth-plugin, then gcloud container clusters get-credentials <cluster>)',
  azure:
    'kubelogin (https://azure.github.io/kubelogin: kubelogin convert-kubeconfig)',
  oidc: 'kubelogin (https://github.com/int128/kubelogin: kubectl oidc-login)',
};

function authProviderMessage(user: string | undefined, provider: unknown) {
  const name =
    typeof provider === 'object' && provider !== null
      ? (provider as { name?: unknown }).name
      : undefined;
  const replacement =
    typeof name === 'string' ? AUTH_PROVIDER_REPLACEMENTS[name] : undefined;
  return `kubeconfig user "${user}" uses the auth-provider "${String(
    name,
  )}", which Kubernetes deprecated and Paved does not support: switch the user to ${
    replacement
      ? `the exec plugin ${replacement}`
      : "its provider's exec credential plugin"
  }, or use a token, a token file or a client certificate`;
}

/** Reads the current context of a kubeconfig file (relative paths from its directory). */
export function connectionFromKubeConfigFile(file: string): KubeConnection {
  return connectionFromKubeConfigYaml(
    fs.readFileSync(file, 'utf8'),
    path.dirname(file),
  );
}

/** The first file named in `KUBECONFIG`, if any. */
export function kubeconfigFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return env.KUBECONFIG?.split(path.delimiter).find(Boolean);
}

/** KUBECONFIG (first file), else in-cluster, else ~/.kube/config. */
export function defaultConnection(
  env: NodeJS.ProcessEnv = process.env,
): KubeConnection {
  const fromFile = connectionFromKubeConfigFile;
  const kubeconfig = kubeconfigFromEnv(env);
  if (kubeconfig) return fromFile(kubeconfig);
  const inCluster = inClusterConnection(env);
  if (inCluster) return inCluster;
  const home = path.join(os.homedir(), '.kube', 'config');
  if (fs.existsSync(home)) return fromFile(home);
  throw new Error(
    'No Kubernetes credentials: set KUBECONFIG, run in a pod with a service account, or create ~/.kube/config',
  );
}

/** Anything that can print itself as kubeconfig YAML (client-node's KubeConfig). */
export interface KubeConfigLike {
  exportConfig(): string;
}

export function toConnection(
  source: KubeConnection | KubeConfigLike,
): KubeConnection {
  return 'exportConfig' in source
    ? connectionFromKubeConfigYaml(source.exportConfig())
    : source;
}
