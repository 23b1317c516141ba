import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { KubeClient, connectionFromKubeConfigYaml } from '@paved/kube';
import { stringify } from 'yaml';
import { createClusterPki, issueClientCertificate } from './certificates';
import {
  CustomResourceDefinition,
  createCrds,
  waitForCrds,
  pavedCrdFiles,
  readCrdFile,
  upstreamCrdFiles,
  UpstreamProject,
} from './crds';
import {
  DataPlane,
  DataPlaneOptions,
  StartedDataPlane,
  startDataPlane,
} from './dataPlane/dataPlane';
import { acquireNodeLock, NodeLock } from './node/lock';
import {
  checkNodePrerequisites,
  cleanUpNode,
  NODE_NETWORK,
  nodeCleanupCommand,
  prepareNodeNetwork,
  staleNodePattern,
} from './node/node';
import {
  ControlPlaneBinaries,
  DataPlaneArtifacts,
  ensureControlPlaneBinaries,
  ensureDataPlaneArtifacts,
} from './paths';
import { freePorts, ManagedProcess, Reaper } from './processes';

/** Options of {@link startTestCluster}. */
export interface TestClusterOptions {
  /** Install Capsule's `tenants.capsule.clastix.io` CRD. Default true. */
  capsule?: boolean;
  /** Install Cilium's `ciliumnetworkpolicies.cilium.io` CRD. Default true. */
  cilium?: boolean;
  /** Install Knative Serving's Service, Revision and DomainMapping CRDs. Default true. */
  knative?: boolean;
  /** Install Paved's own Tenant and App CRDs. Default true. */
  paved?: boolean;
  /**
   * Run a real data plane: a node (containerd, kubelet, kube-scheduler,
   * kube-proxy) whose pods run real containers, CoreDNS, Knative Serving
   * (controller, webhook, autoscaler, activator, queue-proxy) and Traefik as
   * its ingress. Needs root; one such cluster runs on a machine at a time
   * (others wait). Default: off, a control plane only.
   */
  dataPlane?: boolean | DataPlaneOptions;
  /**
   * Start a process of the cluster again when it dies (etcd keeps its data
   * dir, so nothing is lost), instead of leaving the cluster broken: for a
   * long-lived local stack, after a backoff doubling from 1 s to 30 s (or
   * `maxBackoffMs`: a fault harness that kills parts over and over wants
   * them back as a crash-looping pod's first restarts would be). Default
   * false: tests want to see deaths.
   */
  supervise?: boolean | { maxBackoffMs: number };
  /** More CRD manifests (YAML files, multi-document allowed) to install. */
  extraCrdFiles?: string[];
  /** Progress lines (what starts, how long it took). Default: silent. */
  log?: (line: string) => void;
  /** How long to wait for the API server and the CRDs. Default 120 s (a loaded CI machine starting several clusters at once is slow). */
  timeoutMs?: number;
}

/** A running control plane; {@link TestCluster.stop} tears it down. */
export interface TestCluster {
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  /** An admin kubeconfig file (`system:masters`), valid until stop(). */
  readonly kubeconfigPath: string;
  /** The same admin identity, loaded. */
  readonly kubeConfig: k8s.KubeConfig;
  /** The temporary directory holding data, certificates and logs. */
  readonly dir: string;
  /** Which CRD sets were installed. */
  readonly crds: {
    paved: boolean;
    knative: boolean;
    capsule: boolean;
    cilium: boolean;
  };
  /** The real node, Knative and the ingress, when started with `dataPlane`. */
  readonly dataPlane?: DataPlane;
  /** Log file of each process (etcd, kube-apiserver, …, kubelet, traefik). */
  readonly logFiles: Record<string, string>;
  /** Process id of each process, and of the reaper. */
  readonly pids: Record<string, number>;
  /**
   * A kubeconfig for another user, authenticated by a client certificate
   * with CN=`user` and O=each group; RBAC applies to it as to any user.
   */
  userKubeConfig(user: string, groups?: string[]): Promise<k8s.KubeConfig>;
  /**
   * Stops kube-apiserver and starts it again on the same port and etcd, as a
   * rolling upgrade or crash would: open connections and watches break, data
   * stays. For testing that clients reconnect.
   */
  restartApiServer(): Promise<void>;
  /** Kills the three processes, waits for them to exit, removes `dir`. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The controllers a cluster without kubelets needs. With a real node, all of
 * kube-controller-manager's defaults run (deployments, replica sets, endpoint
 * slices, node lifecycle, the root CA publisher, …).
 */
const CONTROLLERS = [
  'namespace-controller',
  'garbage-collector-controller',
  'resourcequota-controller',
  'serviceaccount-controller',
  // Fills the aggregated ClusterRoles admin, edit and view with rules.
  'clusterrole-aggregation-controller',
];

function kubeconfigYaml(
  server: string,
  caFile: string,
  certFile: string,
  keyFile: string,
  user: string,
): string {
  const b64 = (file: string) => fs.readFileSync(file).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'paved-test',
        cluster: { server, 'certificate-authority-data': b64(caFile) },
      },
    ],
    users: [
      {
        name: user,
        user: {
          'client-certificate-data': b64(certFile),
          'client-key-data': b64(keyFile),
        },
      },
    ],
    contexts: [
      {
        name: 'paved-test',
        context: { cluster: 'paved-test', user },
      },
    ],
    'current-context': 'paved-test',
  });
}

function loadKubeConfig(yamlText: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(yamlText);
  return kc;
}

/** GET /readyz with the admin identity; true on 200. */
async function isReady(client: KubeClient): Promise<boolean> {
  try {
    return (await client.statusOf('/readyz', { timeoutMs: 2000 })) === 200;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

class StartError extends Error {
  constructor(message: string, readonly portClash: boolean) {
    super(message);
  }
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager on free loopback
 * ports, with a fresh PKI, RBAC authorization and an admin identity; writes a
 * kubeconfig; installs Paved's CRDs and the upstream ones (Knative Serving,
 * Capsule, Cilium) and waits until they are Established.
 *
 * The processes are killed by stop(), when Node exits, and — through a small
 * detached reaper process — when Node dies from a signal.
 */
export async function startTestCluster(
  options: TestClusterOptions = {},
): Promise<TestCluster> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const bins = await ensureControlPlaneBinaries(log);
  const crds = {
    paved: options.paved ?? true,
    knative: options.knative ?? true,
    capsule: options.capsule ?? true,
    cilium: options.cilium ?? true,
  };
  const projects = (
    ['knative', 'capsule', 'cilium'] as UpstreamProject[]
  ).filter(project => crds[project]);
  const crdFiles = [
    ...(crds.paved ? pavedCrdFiles() : []),
    ...(await upstreamCrdFiles(projects, log)),
    ...(options.extraCrdFiles ?? []),
  ];
  // Parse before starting anything, so a bad file fails fast.
  const crdObjects = crdFiles.flatMap(readCrdFile);
  let artifacts: DataPlaneArtifacts | undefined;
  if (options.dataPlane) {
    await checkNodePrerequisites();
    artifacts = await ensureDataPlaneArtifacts(log);
  }

  for (let attempt = 1; ; attempt++) {
    try {
      const cluster = await startOnce(
        bins,
        crds,
        crdObjects,
        artifacts,
        options,
        log,
      );
      log(
        `test cluster ready at ${cluster.server} in ${
          Date.now() - started
        } ms (kubeconfig ${cluster.kubeconfigPath})`,
      );
      return cluster;
    } catch (error) {
      // Free ports are picked before the processes bind them; another
      // process can take one in between. Retry that case only.
      if (error instanceof StartError && error.portClash && attempt < 3) {
        log(`a port was taken while starting, retrying: ${error.message}`);
        continue;
      }
      throw error;
    }
  }
}

async function startOnce(
  bins: ControlPlaneBinaries,
  crds: TestCluster['crds'],
  crdObjects: CustomResourceDefinition[],
  artifacts: DataPlaneArtifacts | undefined,
  options: TestClusterOptions,
  log: (line: string) => void,
): Promise<TestCluster> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'paved-test-cluster-'));
  const processes: ManagedProcess[] = [];
  const reaper = new Reaper();
  const withNode = artifacts !== undefined;
  const dataPlaneOptions =
    typeof options.dataPlane === 'object' ? options.dataPlane : {};
  let dataPlane: StartedDataPlane | undefined;
  let nodeLock: NodeLock | undefined;
  /** The admin's client, for readiness probes. */
  let probe: KubeClient | undefined;
  if (withNode) {
    // After a crash too, the reaper undoes what the node did to the machine,
    // then removes the directory, then lets the next node start.
    reaper.runWhenDone(nodeCleanupCommand(path.join(dir, 'node')));
  }
  reaper.removeWhenDone(dir);
  let stopped: Promise<void> | undefined;

  const stop = () => {
    stopped ??= (async () => {
      // The controller manager and the API server first, etcd last, so
      // neither logs a storm of connection errors on the way down. The API
      // server's graceful shutdown takes a second and protects nothing here:
      // all data is thrown away.
      const [etcd, apiServer, manager] = processes;
      await dataPlane?.stop();
      await manager?.stop(3000);
      probe?.close();
      await apiServer?.stop(0);
      await etcd?.stop(3000);
      await reaper.done();
      await fsp.rm(dir, { recursive: true, force: true });
      nodeLock?.release();
    })();
    return stopped;
  };

  try {
    if (withNode) {
      nodeLock = await acquireNodeLock({
        holderPid: reaper.pid!,
        cluster: dir,
        // Other suites' nodes run a few minutes each; wait for all of them.
        timeoutMs: Math.max(timeoutMs, 30 * 60_000),
        log,
      });
      // What a node killed with its reaper (SIGKILL to everything) left.
      await cleanUpNode(staleNodePattern());
      await prepareNodeNetwork();
    }
    const pki = await createClusterPki(path.join(dir, 'pki'));
    const [etcdClient, etcdPeer, apiPort, ingressPort, ingressTlsPort] =
      await freePorts(5);
    const server = `https://127.0.0.1:${apiPort}`;
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const peerUrl = `http://127.0.0.1:${etcdPeer}`;
    const logDir = path.join(dir, 'logs');
    await fsp.mkdir(logDir);

    processes.push(
      ManagedProcess.start({
        name: 'etcd',
        command: bins.etcd,
        logDir,
        reaper,
        args: [
          '--name=paved-test',
          `--data-dir=${path.join(dir, 'etcd')}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=${peerUrl}`,
          `--initial-advertise-peer-urls=${peerUrl}`,
          `--initial-cluster=paved-test=${peerUrl}`,
          // Throw-away data: no fsync makes writes ~10x faster.
          '--unsafe-no-fsync=true',
          '--log-level=warn',
        ],
      }),
    );
    const startApiServer = () =>
      ManagedProcess.start({
        name: 'kube-apiserver',
        command: bins.kubeApiserver,
        logDir,
        reaper,
        args: [
          `--etcd-servers=${etcdUrl}`,
          // With a node, pods reach the API server through the `kubernetes`
          // Service, whose endpoint is the advertise address: the bridge's
          // gateway. Host clients still use 127.0.0.1.
          ...(withNode
            ? [
                '--bind-address=0.0.0.0',
                `--advertise-address=${NODE_NETWORK.gateway}`,
                '--authorization-mode=Node,RBAC',
                `--kubelet-client-certificate=${pki.adminCert}`,
                `--kubelet-client-key=${pki.adminKey}`,
                '--kubelet-preferred-address-types=Hostname,InternalIP',
                // Webhooks (Knative's) are called at their pods' addresses.
                '--enable-aggregator-routing=true',
              ]
            : [
                '--bind-address=127.0.0.1',
                '--advertise-address=127.0.0.1',
                '--authorization-mode=RBAC',
              ]),
          `--secure-port=${apiPort}`,
          `--cert-dir=${path.join(dir, 'apiserver-certs')}`,
          `--tls-cert-file=${pki.servingCert}`,
          `--tls-private-key-file=${pki.servingKey}`,
          `--client-ca-file=${pki.caCert}`,
          `--service-account-issuer=${server}`,
          `--service-account-key-file=${pki.serviceAccountPub}`,
          `--service-account-signing-key-file=${pki.serviceAccountKey}`,
          `--service-cluster-ip-range=${NODE_NETWORK.serviceCidr}`,
          '--allow-privileged=true',
          '--profiling=false',
          // Tests are the only clients: no request queuing or shedding.
          '--enable-priority-and-fairness=false',
          '--v=1',
        ],
      });
    processes.push(startApiServer());

    const adminYaml = kubeconfigYaml(
      server,
      pki.caCert,
      pki.adminCert,
      pki.adminKey,
      'paved-test-admin',
    );
    const kubeconfigPath = path.join(dir, 'kubeconfig');
    await fsp.writeFile(kubeconfigPath, adminYaml, { mode: 0o600 });
    const readiness = await KubeClient.fromKubeConfig(
      connectionFromKubeConfigYaml(adminYaml),
    );
    probe = readiness;

    const waitForApiServer = async () => {
      const waitStarted = Date.now();
      for (;;) {
        const dead = processes.find(p => !p.running);
        if (dead) {
          const tail = dead.logTail();
          throw new StartError(
            `${dead.name} exited (${JSON.stringify(
              dead.exitStatus,
            )}) while starting; its log (${dead.logFile}):\n${tail}`,
            /address already in use/.test(tail),
          );
        }
        if (await isReady(readiness)) return;
        if (Date.now() - waitStarted > timeoutMs) {
          throw new Error(
            `kube-apiserver not ready after ${timeoutMs} ms; its log:\n${processes[1].logTail()}`,
          );
        }
        await sleep(100);
      }
    };
    const kubeConfig = loadKubeConfig(adminYaml);
    const apiStarted = Date.now();
    // Create the CRDs while the API server finishes its start-up hooks: it
    // accepts requests about a second before /readyz says ready.
    let failed = false;
    const crdsCreated = createCrds(kubeConfig, crdObjects, {
      timeoutMs,
      cancelled: () => failed,
    });
    crdsCreated.catch(() => {}); // awaited below; avoid an unhandled rejection
    try {
      await waitForApiServer();
    } catch (error) {
      failed = true;
      throw error;
    }
    log(`kube-apiserver ready in ${Date.now() - apiStarted} ms`);

    const crdStarted = Date.now();
    await crdsCreated;
    await waitForCrds(kubeConfig, crdObjects, timeoutMs);
    log(
      `${crdObjects.length} CRDs established ${
        Date.now() - crdStarted
      } ms after the API server was ready`,
    );
    // After the CRDs: the garbage collector and the quota controller discover
    // resources at start and only every 30 s after, so they see the CRDs at once.
    processes.push(
      ManagedProcess.start({
        name: 'kube-controller-manager',
        command: bins.kubeControllerManager,
        logDir,
        reaper,
        args: [
          `--kubeconfig=${kubeconfigPath}`,
          `--controllers=${withNode ? '*' : CONTROLLERS.join(',')}`,
          `--service-account-private-key-file=${pki.serviceAccountKey}`,
          `--root-ca-file=${pki.caCert}`,
          `--cluster-signing-cert-file=${pki.caCert}`,
          `--cluster-signing-key-file=${pki.caKey}`,
          '--leader-elect=false',
          // No HTTPS endpoint: nothing scrapes it, and it needs no port.
          '--secure-port=0',
          '--v=1',
        ],
      }),
    );

    if (artifacts) {
      dataPlane = await startDataPlane({
        dir,
        bins,
        artifacts,
        pki,
        server,
        kubeConfig,
        adminKubeconfig: kubeconfigPath,
        logDir,
        reaper,
        ingressPort: dataPlaneOptions.ingressPort ?? ingressPort,
        ingressTlsPort: dataPlaneOptions.ingressTlsPort ?? ingressTlsPort,
        options: dataPlaneOptions,
        timeoutMs,
        log,
        kubeconfigYaml: (cert, key, user) =>
          kubeconfigYaml(server, pki.caCert, cert, key, user),
      });
    }

    const all = () => [...processes, ...(dataPlane?.processes ?? [])];
    const logFiles: Record<string, string> = {};
    for (const p of all()) logFiles[p.name] = p.logFile;
    const maxBackoffMs =
      typeof options.supervise === 'object'
        ? options.supervise.maxBackoffMs
        : undefined;
    if (options.supervise) {
      for (const p of all()) p.supervise(line => log(line), maxBackoffMs);
    }

    return {
      server,
      kubeconfigPath,
      kubeConfig,
      dir,
      crds,
      dataPlane,
      logFiles,
      // Read afresh: a supervised process has a new pid after a restart.
      get pids() {
        const pids: Record<string, number> = { reaper: reaper.pid! };
        for (const p of all()) pids[p.name] = p.child.pid!;
        return pids;
      },
      async restartApiServer() {
        await processes[1].stop(3000);
        processes[1] = startApiServer();
        if (options.supervise) {
          processes[1].supervise(line => log(line), maxBackoffMs);
        }
        await waitForApiServer();
      },
      async userKubeConfig(user, groups = []) {
        const { cert, key } = await issueClientCertificate(
          pki,
          path.join(dir, 'pki'),
          user,
          groups,
        );
        return loadKubeConfig(
          kubeconfigYaml(server, pki.caCert, cert, key, user),
        );
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
