import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ClusterPki, issueClientCertificate } from '../certificates';
import { ControlPlaneBinaries, PACKAGE_ROOT, runCommand } from '../paths';
import { freePorts, ManagedProcess, Reaper } from '../processes';

/**
 * The addresses of the one real node a machine runs (see lock.ts). The API
 * server advertises the bridge's gateway address, so pods reach it through
 * the `kubernetes` Service; everything else stays on loopback.
 */
export const NODE_NETWORK = {
  nodeName: 'localhost',
  bridge: 'paved0',
  podCidr: '10.244.0.0/24',
  gateway: '10.244.0.1',
  /** The API server's --service-cluster-ip-range. */
  serviceCidr: '10.0.0.0/24',
  clusterDns: '10.0.0.10',
  clusterDomain: 'cluster.local',
} as const;

/** The image containerd runs as each pod's sandbox (see scripts/build-images.sh). */
export const PAUSE_IMAGE = 'registry.localhost/paved/pause:3.10';

/**
 * Images are never pulled: names under registry.localhost resolve to a closed
 * loopback port, so a missing image fails the real way (ErrImagePull) without
 * asking any outside DNS or registry.
 */
export const LOCAL_REGISTRY = 'registry.localhost';

const CLEANUP_SCRIPT = path.join(PACKAGE_ROOT, 'scripts', 'node-cleanup.sh');

export interface RealNode {
  /** containerd's socket, for `ctr --address`. */
  readonly containerdSocket: string;
  readonly processes: ManagedProcess[];
  /** Imports more image tarballs (docker save layout). */
  importImages(tarballs: string[]): Promise<void>;
  /** Gives an image the node has another name (a new tag, say). */
  tagImage(existing: string, name: string): Promise<void>;
  /**
   * Starts kube-router's network-policy controller (once the node is
   * registered: it reads its own Node) and waits for its netfilter chains.
   */
  startNetworkPolicyEnforcer(binary: string, timeoutMs: number): Promise<void>;
  /**
   * Stops kube-router, kube-proxy, kubelet, the scheduler and containerd,
   * then cleans up.
   */
  stop(): Promise<void>;
}

/** What a test node leaves behind, for a clean-up before any node starts. */
export function staleNodePattern(): string {
  return `${os.tmpdir()}/paved-test-cluster-[^/ ]+/node`;
}

export async function cleanUpNode(dirPattern: string): Promise<void> {
  await runCommand('bash', [CLEANUP_SCRIPT, dirPattern, NODE_NETWORK.bridge]);
}

export function nodeCleanupCommand(nodeDir: string): string[] {
  return ['bash', CLEANUP_SCRIPT, nodeDir, NODE_NETWORK.bridge];
}

async function writeSysctl(name: string, value: string) {
  await fsp
    .writeFile(`/proc/sys/${name.replace(/\./g, '/')}`, value)
    .catch(error => {
      throw new Error(
        `Cannot set ${name}=${value} (${error.message}): a real node needs root on a machine whose kernel lets it route between containers`,
      );
    });
}

/**
 * The bridge exists before the API server starts, so its advertise address
 * is routable from the first pod on; the CNI bridge plugin adopts it.
 */
export async function prepareNodeNetwork(): Promise<void> {
  const ip = (...args: string[]) => runCommand('ip', args);
  await writeSysctl('net.ipv4.ip_forward', '1');
  // Pod → Service → pod on the same bridge goes through kube-proxy's rules.
  await writeSysctl('net.bridge.bridge-nf-call-iptables', '1');
  await ip('link', 'add', NODE_NETWORK.bridge, 'type', 'bridge');
  await ip(
    'addr',
    'add',
    `${NODE_NETWORK.gateway}/${NODE_NETWORK.podCidr.split('/')[1]}`,
    'dev',
    NODE_NETWORK.bridge,
  );
  await ip('link', 'set', NODE_NETWORK.bridge, 'up');
}

/** Checks, before anything starts, that this machine can run a node. */
export async function checkNodePrerequisites(): Promise<void> {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) {
    problems.push('it must run as root (kubelet, containerd and iptables)');
  }
  for (const tool of ['containerd', 'runc', 'ctr', 'iptables', 'ipset', 'ip']) {
    await runCommand('sh', ['-c', `command -v ${tool}`]).catch(() =>
      problems.push(`${tool} is not installed`),
    );
  }
  await fsp
    .access('/usr/lib/cni/bridge')
    .catch(() =>
      problems.push(
        'the CNI plugins are not installed (/usr/lib/cni/bridge; Debian: containernetworking-plugins)',
      ),
    );
  await fsp
    .access('/sys/fs/cgroup/memory')
    .catch(() =>
      problems.push('cgroup v1 controllers are not mounted at /sys/fs/cgroup'),
    );
  if (problems.length) {
    throw new Error(
      `This machine cannot run a real Kubernetes node: ${problems.join(
        '; ',
      )}. scripts/test.sh and scripts/start.sh install the packages; otherwise point KUBECONFIG at a real cluster with Knative Serving.`,
    );
  }
}

function containerdConfig(dir: string, socket: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
# Nothing else of the machine's: no /opt plugins, no metrics, no debug socket.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "${socket}"

[ttrpc]
  address = "${socket}.ttrpc"

[${cri}]
  sandbox_image = "${PAUSE_IMAGE}"
  # The machine's root lacks CAP_SYS_RESOURCE: without this a pod sandbox
  # fails writing /proc/self/oom_score_adj.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [${cri}.cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dir}/cni"
  [${cri}.registry]
    config_path = "${dir}/registries"
`;
}

function cniConfig(dir: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'paved',
      plugins: [
        {
          type: 'bridge',
          bridge: NODE_NETWORK.bridge,
          isGateway: true,
          ipMasq: true,
          // A pod reaches itself through its own Service.
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: NODE_NETWORK.podCidr }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: path.join(dir, 'ipam'),
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'loopback' },
      ],
    },
    null,
    2,
  );
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/**
 * Starts containerd, the kubelet, kube-scheduler and kube-proxy against a
 * running API server. The caller holds the node lock, has called
 * prepareNodeNetwork() and has told the reaper to run nodeCleanupCommand().
 */
export async function startRealNode(options: {
  dir: string;
  bins: ControlPlaneBinaries;
  pki: ClusterPki;
  server: string;
  adminKubeconfig: string;
  logDir: string;
  reaper: Reaper;
  images: string[];
  log: (line: string) => void;
  kubeconfigYaml: (cert: string, key: string, user: string) => string;
}): Promise<RealNode> {
  const { dir, bins, logDir, reaper, log } = options;
  const processes: ManagedProcess[] = [];
  const containerdDir = path.join(dir, 'containerd');
  const socket = path.join(containerdDir, 'containerd.sock');
  await fsp.mkdir(path.join(containerdDir, 'cni'), { recursive: true });
  await fsp.mkdir(path.join(containerdDir, 'registries', LOCAL_REGISTRY), {
    recursive: true,
  });
  await fsp.writeFile(
    path.join(containerdDir, 'config.toml'),
    containerdConfig(containerdDir, socket),
  );
  await fsp.writeFile(
    path.join(containerdDir, 'cni', '10-paved.conflist'),
    cniConfig(containerdDir),
  );
  // Port 9 (discard) is closed on loopback: a pull is refused at once. The
  // host table is what containerd 1.6 needs: with `server` alone it rejects
  // the file ("invalid host tree") and asks the machine's DNS instead.
  await fsp.writeFile(
    path.join(containerdDir, 'registries', LOCAL_REGISTRY, 'hosts.toml'),
    [
      'server = "http://127.0.0.1:9"',
      '',
      '[host."http://127.0.0.1:9"]',
      '  capabilities = ["pull", "resolve"]',
      '',
    ].join('\n'),
  );

  const stopAll = async () => {
    for (const p of [...processes].reverse()) await p.stop(5000);
    await runCommand(bins.kubeProxy, ['--cleanup']).catch(() => {});
    await runCommand(...splitCommand(nodeCleanupCommand(dir))).catch(() => {});
  };

  try {
    const started = Date.now();
    processes.push(
      ManagedProcess.start({
        name: 'containerd',
        command: 'containerd',
        args: ['--config', path.join(containerdDir, 'config.toml')],
        logDir,
        reaper,
      }),
    );
    const ctr = (...args: string[]) =>
      runCommand('ctr', [
        '--address',
        socket,
        '--namespace',
        'k8s.io',
        ...args,
      ]);
    for (let i = 0; ; i++) {
      if (!processes[0].running) {
        throw new Error(`containerd exited:\n${processes[0].logTail()}`);
      }
      if (
        await ctr('version').then(
          () => true,
          () => false,
        )
      )
        break;
      if (i > 300) throw new Error(`containerd did not answer on ${socket}`);
      await sleep(100);
    }
    log(`containerd ready in ${Date.now() - started} ms`);

    const importImages = async (tarballs: string[]) => {
      const t = Date.now();
      // One at a time: containerd's content store serialises them anyway.
      for (const tarball of tarballs) await ctr('images', 'import', tarball);
      log(`${tarballs.length} images imported in ${Date.now() - t} ms`);
    };
    await importImages(options.images);

    const [kubeletPort, kubeletHealthz, proxyHealthz, proxyMetrics] =
      await freePorts(4);
    const pkiDir = path.join(dir, 'pki');
    await fsp.mkdir(pkiDir, { recursive: true });
    const nodeUser = `system:node:${NODE_NETWORK.nodeName}`;
    const nodeCert = await issueClientCertificate(
      options.pki,
      pkiDir,
      nodeUser,
      ['system:nodes'],
    );
    const kubeletKubeconfig = path.join(dir, 'kubelet.kubeconfig');
    await fsp.writeFile(
      kubeletKubeconfig,
      options.kubeconfigYaml(nodeCert.cert, nodeCert.key, nodeUser),
      { mode: 0o600 },
    );
    const kubeletConfig = path.join(dir, 'kubelet.yaml');
    const emptyResolvConf = path.join(dir, 'resolv.conf');
    // Pods with dnsPolicy Default get no outside resolver: this machine's
    // network is not theirs to ask.
    await fsp.writeFile(emptyResolvConf, '');
    await fsp.writeFile(
      kubeletConfig,
      stringify({
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        address: '127.0.0.1',
        port: kubeletPort,
        readOnlyPort: 0,
        healthzBindAddress: '127.0.0.1',
        healthzPort: kubeletHealthz,
        cgroupDriver: 'cgroupfs',
        failSwapOn: false,
        containerRuntimeEndpoint: `unix://${socket}`,
        authentication: {
          anonymous: { enabled: false },
          webhook: { enabled: false },
          x509: { clientCAFile: options.pki.caCert },
        },
        // Only the API server (with a CA-signed certificate) can connect.
        authorization: { mode: 'AlwaysAllow' },
        clusterDNS: [NODE_NETWORK.clusterDns],
        clusterDomain: NODE_NETWORK.clusterDomain,
        resolvConf: emptyResolvConf,
        podCIDR: NODE_NETWORK.podCidr,
        podLogsDir: path.join(dir, 'pod-logs'),
        maxPods: 250,
        serializeImagePulls: false,
        // A shared CI machine's disk is not this node's to guard.
        evictionHard: {
          'memory.available': '100Mi',
          'nodefs.available': '1%',
          'imagefs.available': '1%',
        },
        imageGCHighThresholdPercent: 100,
        imageGCLowThresholdPercent: 99,
        enforceNodeAllocatable: [],
        // Quicker feedback in tests than the 10 s default.
        nodeStatusUpdateFrequency: '2s',
        syncFrequency: '10s',
      }),
    );
    processes.push(
      ManagedProcess.start({
        name: 'kubelet',
        command: bins.kubelet,
        logDir,
        reaper,
        args: [
          `--config=${kubeletConfig}`,
          `--kubeconfig=${kubeletKubeconfig}`,
          // The API server finds the kubelet (logs, exec) by the node's
          // Hostname address, which must resolve to loopback.
          `--hostname-override=${NODE_NETWORK.nodeName}`,
          `--root-dir=${path.join(dir, 'kubelet')}`,
          `--cert-dir=${path.join(dir, 'kubelet-pki')}`,
          '--v=1',
        ],
      }),
      ManagedProcess.start({
        name: 'kube-scheduler',
        command: bins.kubeScheduler,
        logDir,
        reaper,
        args: [
          `--kubeconfig=${options.adminKubeconfig}`,
          '--leader-elect=false',
          '--secure-port=0',
          '--v=1',
        ],
      }),
    );
    const proxyConfig = path.join(dir, 'kube-proxy.yaml');
    await fsp.writeFile(
      proxyConfig,
      stringify({
        apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
        kind: 'KubeProxyConfiguration',
        mode: 'iptables',
        clusterCIDR: NODE_NETWORK.podCidr,
        hostnameOverride: NODE_NETWORK.nodeName,
        clientConnection: { kubeconfig: options.adminKubeconfig },
        healthzBindAddress: `127.0.0.1:${proxyHealthz}`,
        metricsBindAddress: `127.0.0.1:${proxyMetrics}`,
        // Leave the machine's conntrack sysctls alone.
        conntrack: {
          maxPerCore: 0,
          min: 0,
          tcpEstablishedTimeout: '0s',
          tcpCloseWaitTimeout: '0s',
        },
        iptables: { syncPeriod: '10s', minSyncPeriod: '0s' },
      }),
    );
    processes.push(
      ManagedProcess.start({
        name: 'kube-proxy',
        command: bins.kubeProxy,
        logDir,
        reaper,
        args: [`--config=${proxyConfig}`, '--v=1'],
      }),
    );
    return {
      containerdSocket: socket,
      processes,
      importImages,
      tagImage: async (existing, name) => {
        await ctr('images', 'tag', '--force', existing, name);
      },
      startNetworkPolicyEnforcer: async (binary, timeoutMs) => {
        const kubeRouter = ManagedProcess.start({
          name: 'kube-router',
          command: binary,
          logDir,
          reaper,
          args: kubeRouterArgs(options.adminKubeconfig),
        });
        processes.push(kubeRouter);
        const t = Date.now();
        // Its chains exist after its first full sync (about 0.1 s).
        const synced = () =>
          runCommand('iptables', ['-w', '-S', 'KUBE-ROUTER-FORWARD']).then(
            () => true,
            () => false,
          );
        while (!(await synced())) {
          if (!kubeRouter.running) {
            throw new Error(`kube-router exited:\n${kubeRouter.logTail()}`);
          }
          if (Date.now() - t > timeoutMs) {
            throw new Error(
              `kube-router made no KUBE-ROUTER-FORWARD chain in ${timeoutMs} ms:\n${kubeRouter.logTail()}`,
            );
          }
          await sleep(100);
        }
        log(`kube-router enforcing NetworkPolicies in ${Date.now() - t} ms`);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * kube-router as the node's NetworkPolicy enforcer and nothing else: no
 * routing (BGP), no service proxy (kube-proxy does that). It keeps pods'
 * traffic in iptables chains (KUBE-ROUTER-*, KUBE-POD-FW-*, KUBE-NWPLCY-*)
 * and ipsets (KUBE-SRC-*, KUBE-DST-*), which scripts/node-cleanup.sh
 * removes. No health or metrics port: its health server would bind every
 * address; readiness is its chains.
 */
export function kubeRouterArgs(kubeconfig: string): string[] {
  return [
    '--run-firewall=true',
    '--run-router=false',
    '--run-service-proxy=false',
    `--kubeconfig=${kubeconfig}`,
    `--hostname-override=${NODE_NETWORK.nodeName}`,
    `--service-cluster-ip-range=${NODE_NETWORK.serviceCidr}`,
    '--health-port=0',
    '--metrics-port=0',
    '--v=1',
  ];
}

function splitCommand(argv: string[]): [string, string[]] {
  return [argv[0], argv.slice(1)];
}

/**
 * Paved's example app (packages/example-app) as scripts/build-images.sh names
 * it; every data plane has it (dataPlane.test.ts checks the two agree).
 */
export const EXAMPLE_APP_IMAGE = `${LOCAL_REGISTRY}/paved/hello:1.0.0`;
