import fs from 'node:fs';
import path from 'node:path';
import { startTestCluster, TestCluster } from './cluster';
import { portAnswers } from './dataPlane/traefik';
import { ensureControlPlaneBinaries, PACKAGE_ROOT } from './paths';

const DEFAULT_KUBECONFIG = path.resolve(
  PACKAGE_ROOT,
  '..',
  '..',
  '.paved',
  'kubeconfig',
);

const USAGE = `Usage: yarn cluster up [options]

Starts a local Kubernetes control plane (etcd, kube-apiserver,
kube-controller-manager) with Paved's, Knative's, Capsule's and Cilium's CRDs,
and keeps it running until Ctrl-C or SIGTERM.

Options:
  --data-plane           also run a real node (containerd, kubelet,
                         kube-scheduler, kube-proxy, kube-router enforcing
                         NetworkPolicies), CoreDNS, Knative Serving
                         and Traefik: apps run in real containers and answer
                         at their URLs (needs root)
  --ingress-port <port>  Traefik's port on 127.0.0.1 (default 80 when free,
                         otherwise a free port; URLs then need it)
  --ingress-tls-port <port>
                         Traefik's HTTPS entry point for custom domains
                         with a certificate (default 443 when free,
                         otherwise 8443)
  --domain <domain>      domain of app URLs (default localhost: browsers
                         resolve *.localhost to this machine)
  --autoscaler <k>=<v>   a config-autoscaler key for Knative, repeatable
                         (e.g. --autoscaler stable-window=6s for a quick
                         scale to zero)
  --no-capsule           do not install Capsule's Tenant CRD
  --no-cilium            do not install Cilium's CiliumNetworkPolicy CRD
  --no-knative           do not install Knative Serving's CRDs
  --kubeconfig <path>    where to write the admin kubeconfig
                         (default ${DEFAULT_KUBECONFIG})
  -h, --help             show this help
`;

interface CliOptions {
  dataPlane: boolean;
  ingressPort?: number;
  ingressTlsPort?: number;
  domain: string;
  autoscaler?: Record<string, string>;
  capsule: boolean;
  cilium: boolean;
  knative: boolean;
  kubeconfig: string;
}

/** Parses `up [options]`; throws with a message that says what to fix. */
export function parseArgs(args: string[]): CliOptions | 'help' {
  const options: CliOptions = {
    dataPlane: false,
    domain: 'localhost',
    capsule: true,
    cilium: true,
    knative: true,
    kubeconfig: DEFAULT_KUBECONFIG,
  };
  const rest = [...args];
  if (rest[0] === 'up') rest.shift();
  while (rest.length) {
    const arg = rest.shift()!;
    const value = () => {
      const next = rest.shift();
      if (!next || next.startsWith('-')) {
        throw new Error(`${arg} needs a value`);
      }
      return next;
    };
    switch (arg) {
      case '-h':
      case '--help':
      case 'help':
        return 'help';
      case '--data-plane':
        options.dataPlane = true;
        break;
      case '--ingress-port': {
        const port = Number(value());
        if (!Number.isInteger(port) || port < 1 || port > 65535) {
          throw new Error('--ingress-port needs a port number (1-65535)');
        }
        options.ingressPort = port;
        break;
      }
      case '--ingress-tls-port': {
        const port = Number(value());
        if (!Number.isInteger(port) || port < 1 || port > 65535) {
          throw new Error('--ingress-tls-port needs a port number (1-65535)');
        }
        options.ingressTlsPort = port;
        break;
      }
      case '--domain':
        options.domain = value();
        break;
      case '--autoscaler': {
        const setting = value();
        const eq = setting.indexOf('=');
        if (eq < 1) throw new Error('--autoscaler needs <key>=<value>');
        options.autoscaler = {
          ...options.autoscaler,
          [setting.slice(0, eq)]: setting.slice(eq + 1),
        };
        break;
      }
      case '--no-capsule':
        options.capsule = false;
        break;
      case '--no-cilium':
        options.cilium = false;
        break;
      case '--no-knative':
        options.knative = false;
        break;
      case '--kubeconfig':
        options.kubeconfig = path.resolve(value());
        break;
      default:
        throw new Error(`Unknown argument "${arg}"; see --help`);
    }
  }
  if (options.dataPlane && !options.knative) {
    throw new Error('--data-plane runs Knative; drop --no-knative');
  }
  return options;
}

export async function main(args: string[]): Promise<void> {
  let options: CliOptions | 'help';
  try {
    options = parseArgs(args);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return;
  }

  const log = (line: string) => process.stderr.write(`[cluster] ${line}\n`);
  const bins = await ensureControlPlaneBinaries(log);
  // Filled in as things start; shutdown() stops whatever is there.
  const running: { cluster?: TestCluster } = {};
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log(
        'stopping already; exiting now (the control plane is killed on exit)',
      );
      process.exit(1);
    }
    stopping = true;
    log(`${signal}: stopping`);
    await running.cluster?.stop();
    fs.rmSync(options.kubeconfig as string, { force: true });
    log('stopped');
    process.exit(process.exitCode ?? 0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const ingressPort =
    options.ingressPort ?? ((await portAnswers(80)) ? undefined : 80);
  const ingressTlsPort =
    options.ingressTlsPort ?? ((await portAnswers(443)) ? 8443 : 443);
  const cluster = await startTestCluster({
    capsule: options.capsule,
    cilium: options.cilium,
    knative: options.knative,
    dataPlane: options.dataPlane && {
      domain: options.domain,
      ingressPort,
      ingressTlsPort,
      autoscaler: options.autoscaler,
    },
    // A part that dies is started again: the local stack heals itself.
    supervise: true,
    timeoutMs: 300_000,
    log,
  });
  running.cluster = cluster;
  fs.mkdirSync(path.dirname(options.kubeconfig), { recursive: true });
  fs.copyFileSync(cluster.kubeconfigPath, options.kubeconfig);
  fs.chmodSync(options.kubeconfig, 0o600);

  const installed = Object.entries(cluster.crds)
    .filter(([, on]) => on)
    .map(([name]) => name)
    .join(', ');
  process.stdout.write(
    [
      '',
      `Kubernetes API server: ${cluster.server}`,
      `CRDs: ${installed}`,
      cluster.dataPlane
        ? `Data plane: real node, Knative Serving, Traefik on 127.0.0.1:${
            cluster.dataPlane.ingressPort
          }; apps answer at http://<app>.<namespace>.${
            cluster.dataPlane.domain
          }${
            cluster.dataPlane.ingressPort === 80
              ? ''
              : `:${cluster.dataPlane.ingressPort}`
          }; custom domains with a certificate answer HTTPS on 127.0.0.1:${
            cluster.dataPlane.ingressTlsPort
          }`
        : 'Data plane: none (no node: nothing runs containers)',
      `Logs: ${path.dirname(cluster.logFiles.etcd)}`,
      '',
      `  export KUBECONFIG=${options.kubeconfig}`,
      `  ${bins.kubectl} get crds`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  // Stay up until a signal arrives; a part that dies is started again (see
  // `supervise` above), with a log line saying so.
  setInterval(() => {}, 60_000);
}
