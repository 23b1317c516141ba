import fs from 'node:fs';
import path from 'node:path';
import { startTestCluster, TestCluster } from './cluster';
import { KnativeStatusSimulator } from './knativeSimulator';
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
and keeps it running until Ctrl-C. No kubelet runs: nothing executes
containers.

Options:
  --simulate-knative     run the Knative status simulator (a test stand-in for
                         Knative's controller: Services become Ready with a URL)
  --domain <domain>      domain of simulated Knative URLs (default 127.0.0.1.sslip.io)
  --no-capsule           do not install Capsule's Tenant CRD
  --no-cilium            do not install Cilium's CiliumNetworkPolicy CRD
  --no-knative           do not install Knative Serving's CRDs
  --kubeconfig <path>    where to write the admin kubeconfig
                         (default ${DEFAULT_KUBECONFIG})
  -h, --help             show this help
`;

interface CliOptions {
  simulateKnative: boolean;
  domain: string;
  capsule: boolean;
  cilium: boolean;
  knative: boolean;
  kubeconfig: string;
}

/** Parses `up [options]`; throws with a message that says what to fix. */
export function parseArgs(args: string[]): CliOptions | 'help' {
  const options: CliOptions = {
    simulateKnative: false,
    domain: '127.0.0.1.sslip.io',
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
      case '--simulate-knative':
        options.simulateKnative = true;
        break;
      case '--domain':
        options.domain = value();
        break;
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
  if (options.simulateKnative && !options.knative) {
    throw new Error(
      '--simulate-knative needs the Knative CRDs; drop --no-knative',
    );
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
  const running: { cluster?: TestCluster; simulator?: KnativeStatusSimulator } =
    {};
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
    await running.simulator?.stop();
    await running.cluster?.stop();
    fs.rmSync(options.kubeconfig as string, { force: true });
    log('stopped');
    process.exit(process.exitCode ?? 0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const cluster = await startTestCluster({
    capsule: options.capsule,
    cilium: options.cilium,
    knative: options.knative,
    log,
  });
  running.cluster = cluster;
  fs.mkdirSync(path.dirname(options.kubeconfig), { recursive: true });
  fs.copyFileSync(cluster.kubeconfigPath, options.kubeconfig);
  fs.chmodSync(options.kubeconfig, 0o600);

  if (options.simulateKnative) {
    const simulator = new KnativeStatusSimulator({
      kubeConfig: cluster.kubeConfig,
      domain: options.domain,
      log: line => log(`knative-simulator: ${line}`),
    });
    running.simulator = simulator;
    await simulator.start();
  }

  const installed = Object.entries(cluster.crds)
    .filter(([, on]) => on)
    .map(([name]) => name)
    .join(', ');
  process.stdout.write(
    [
      '',
      `Kubernetes API server: ${cluster.server}`,
      `CRDs: ${installed}`,
      `Knative status simulator: ${options.simulateKnative ? 'on' : 'off'}`,
      `Logs: ${path.dirname(cluster.logFiles.etcd)}`,
      '',
      `  export KUBECONFIG=${options.kubeconfig}`,
      `  ${bins.kubectl} get crds`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  // Stay up until a signal arrives, or until a control-plane process dies.
  const watched = ['etcd', 'kube-apiserver', 'kube-controller-manager'];
  setInterval(() => {
    for (const name of watched) {
      try {
        process.kill(cluster.pids[name], 0);
      } catch {
        log(`${name} exited unexpectedly; see ${cluster.logFiles[name]}`);
        process.exitCode = 1;
        void shutdown('crash');
        return;
      }
    }
  }, 2000);
}
