import fsp from 'node:fs/promises';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { KubeClient, NODES } from '@paved/kube';
import { ClusterPki, issueClientCertificate } from '../certificates';
import {
  LOCAL_REGISTRY,
  NODE_NETWORK,
  RealNode,
  startRealNode,
} from '../node/node';
import { ControlPlaneBinaries, DataPlaneArtifacts } from '../paths';
import { ManagedProcess, Reaper } from '../processes';
import { applyObjects, describePods, waitForDeployments } from './apply';
import { coreDnsObjects } from './coredns';
import {
  KNATIVE_COMPONENTS,
  KNATIVE_NAMESPACE,
  knativeServingObjects,
  waitForKnativeWebhook,
} from './knative';
import { startTraefik, TRAEFIK_USER } from './traefik';

/** Options of the real data plane (`startTestCluster({ dataPlane })`). */
export interface DataPlaneOptions {
  /**
   * Port of the ingress (Traefik) on 127.0.0.1. Default: a free port. With
   * 80, app URLs open as they are in a browser on this machine.
   */
  ingressPort?: number;
  /**
   * Port of the ingress's TLS entry point on 127.0.0.1 (custom domains with
   * a certificate; send `https://<domain>:<port>` with `curl --resolve`).
   * Default: a free port. With 443, https URLs need no port.
   */
  ingressTlsPort?: number;
  /**
   * Domain of app URLs, `<app>.<namespace>.<domain>`. Default `localhost`:
   * browsers resolve every `*.localhost` name to loopback.
   */
  domain?: string;
  /** Extra `config-autoscaler` keys, e.g. short scale-to-zero windows. */
  autoscaler?: Record<string, string>;
  /** How long Knative waits for a revision's pods before failing it. */
  progressDeadline?: string;
  /**
   * Enforce NetworkPolicies on the node (kube-router's network-policy
   * controller). Default true; false leaves every policy unenforced, as a
   * CNI without policy support would.
   */
  networkPolicies?: boolean;
}

/** The running data plane of a test cluster. */
export interface DataPlane {
  /** Traefik's port on 127.0.0.1: send requests here with the app's Host. */
  readonly ingressPort: number;
  /** Traefik's TLS entry point on 127.0.0.1 (the Knative Ingresses' `tls` entries). */
  readonly ingressTlsPort: number;
  readonly domain: string;
  /** containerd's socket, for `ctr --address … -n k8s.io`. */
  readonly containerdSocket: string;
  /** The images the node has, by tarball file name (see build-images.sh). */
  readonly images: Record<string, string>;
  /** True when the node enforces NetworkPolicies (kube-router). */
  readonly networkPolicies: boolean;
  /** Imports image tarballs (docker save layout) into the node's containerd. */
  importImages(tarballs: string[]): Promise<void>;
  /**
   * Gives an image the node has another name, as pushing a new tag would:
   * `tagImage(images['hello.tar'], 'registry.localhost/paved/hello:1.1.0')`.
   */
  tagImage(existing: string, name: string): Promise<void>;
}

export interface StartedDataPlane extends DataPlane {
  readonly processes: ManagedProcess[];
  stop(): Promise<void>;
}

const imageNamed = (artifacts: DataPlaneArtifacts, file: string) => {
  const image = artifacts.images[file];
  if (!image) {
    throw new Error(
      `${artifacts.imagesDir}/images.json names no ${file}; rebuild with packages/test-cluster/scripts/build-images.sh`,
    );
  }
  return image;
};

/**
 * Starts the node (containerd, kubelet, kube-scheduler, kube-proxy, and
 * kube-router once the node is registered), then CoreDNS and Knative Serving
 * as pods, and Traefik on the host, and waits until all of them are ready.
 */
export async function startDataPlane(options: {
  dir: string;
  bins: ControlPlaneBinaries;
  artifacts: DataPlaneArtifacts;
  pki: ClusterPki;
  server: string;
  kubeConfig: k8s.KubeConfig;
  adminKubeconfig: string;
  logDir: string;
  reaper: Reaper;
  ingressPort: number;
  ingressTlsPort: number;
  options: DataPlaneOptions;
  timeoutMs: number;
  log: (line: string) => void;
  kubeconfigYaml: (cert: string, key: string, user: string) => string;
}): Promise<StartedDataPlane> {
  const { artifacts, kubeConfig, log } = options;
  const started = Date.now();
  const domain = options.options.domain ?? 'localhost';
  const networkPolicies = options.options.networkPolicies ?? true;
  const images = Object.keys(artifacts.images).map(file =>
    path.join(artifacts.imagesDir, file),
  );
  let node: RealNode | undefined;
  let traefik: ManagedProcess | undefined;
  const stop = async () => {
    await traefik?.stop(2000);
    await node?.stop();
  };
  try {
    node = await startRealNode({
      dir: path.join(options.dir, 'node'),
      bins: options.bins,
      pki: options.pki,
      server: options.server,
      adminKubeconfig: options.adminKubeconfig,
      logDir: options.logDir,
      reaper: options.reaper,
      images,
      log,
      kubeconfigYaml: options.kubeconfigYaml,
    });
    await waitForNodeReady(kubeConfig, options.timeoutMs, node);
    log(
      `node ${NODE_NETWORK.nodeName} Ready ${
        Date.now() - started
      } ms after it started`,
    );
    // Before any pod runs: every pod is under policy from its start.
    if (networkPolicies) {
      await node.startNetworkPolicyEnforcer(
        artifacts.kubeRouter,
        options.timeoutMs,
      );
    }

    const knativeImages = Object.fromEntries(
      [...KNATIVE_COMPONENTS, 'queue' as const].map(name => [
        name,
        imageNamed(artifacts, `knative-${name}.tar`),
      ]),
    ) as Record<(typeof KNATIVE_COMPONENTS)[number] | 'queue', string>;
    const knative = await knativeServingObjects({
      images: knativeImages,
      domain,
      localRegistries: [LOCAL_REGISTRY],
      autoscaler: options.options.autoscaler,
      progressDeadline: options.options.progressDeadline,
    });
    await applyObjects(kubeConfig, [
      ...coreDnsObjects(imageNamed(artifacts, 'coredns.tar')),
      ...knative.core,
    ]);

    const traefikCert = await issueClientCertificate(
      options.pki,
      path.join(options.dir, 'pki'),
      TRAEFIK_USER,
    );
    const traefikKubeconfig = path.join(options.dir, 'traefik.kubeconfig');
    await fsp.writeFile(
      traefikKubeconfig,
      options.kubeconfigYaml(traefikCert.cert, traefikCert.key, TRAEFIK_USER),
      { mode: 0o600 },
    );
    traefik = await startTraefik({
      binary: artifacts.traefik,
      dir: path.join(options.dir, 'traefik'),
      port: options.ingressPort,
      tlsPort: options.ingressTlsPort,
      kubeConfig,
      kubeconfigPath: traefikKubeconfig,
      logDir: options.logDir,
      reaper: options.reaper,
      timeoutMs: options.timeoutMs,
    });

    await Promise.all(
      ['kube-system', KNATIVE_NAMESPACE].map(namespace =>
        waitForDeployments(kubeConfig, namespace, options.timeoutMs, () =>
          describePods(kubeConfig, namespace),
        ),
      ),
    );
    await applyObjects(kubeConfig, knative.webhooks);
    const client = await KubeClient.fromKubeConfig(kubeConfig);
    try {
      await waitForKnativeWebhook(client, options.timeoutMs);
    } finally {
      client.close();
    }
    log(
      `CoreDNS, Knative Serving and Traefik ready ${
        Date.now() - started
      } ms after the node started`,
    );
    const running = node;
    return {
      ingressPort: options.ingressPort,
      ingressTlsPort: options.ingressTlsPort,
      domain,
      containerdSocket: running.containerdSocket,
      images: artifacts.images,
      networkPolicies,
      importImages: tarballs => running.importImages(tarballs),
      tagImage: (existing, name) => running.tagImage(existing, name),
      processes: [...running.processes, traefik],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface NodeObject {
  metadata: { name: string };
  spec?: { taints?: Array<{ key: string }> };
  status?: {
    conditions?: Array<{ type: string; status: string; message?: string }>;
  };
  [key: string]: unknown;
}

async function waitForNodeReady(
  kubeConfig: k8s.KubeConfig,
  timeoutMs: number,
  node: RealNode,
): Promise<void> {
  const client = await KubeClient.fromKubeConfig(kubeConfig);
  try {
    await waitForReadyNode(client, timeoutMs, node);
  } finally {
    client.close();
  }
}

async function waitForReadyNode(
  client: KubeClient,
  timeoutMs: number,
  node: RealNode,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = node.processes.find(p => !p.running);
    if (dead) {
      throw new Error(
        `${dead.name} exited while the node started:\n${dead.logTail(30)}`,
      );
    }
    const found = await client
      .get<NodeObject>(NODES, NODE_NETWORK.nodeName)
      .catch(() => undefined);
    const ready = found?.status?.conditions?.find(c => c.type === 'Ready');
    // The node-lifecycle controller lifts the not-ready taint shortly after.
    const tainted = found?.spec?.taints?.some(
      t => t.key === 'node.kubernetes.io/not-ready',
    );
    if (ready?.status === 'True' && !tainted) return;
    if (Date.now() > deadline) {
      const kubelet = node.processes.find(p => p.name === 'kubelet');
      throw new Error(
        `node ${NODE_NETWORK.nodeName} not Ready after ${timeoutMs} ms (${
          ready?.message ?? 'not registered'
        }); kubelet log:\n${kubelet?.logTail(30)}`,
      );
    }
    await new Promise(r => setTimeout(r, 250));
  }
}
