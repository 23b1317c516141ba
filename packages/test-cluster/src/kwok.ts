/**
 * KWOK (sigs.k8s.io/kwok) beside a test cluster: fake nodes that the
 * scheduler fills like any other, whose pods KWOK marks Running and Ready
 * (with an IP from its own range) without running a container. For
 * benchmarks at a scale one real node cannot hold — hundreds of Knative
 * revisions, each with its pods — while everything above the kubelet
 * (scheduler, controllers, Knative, the operator) is real. Not for tests:
 * a KWOK pod answers no request.
 */
import fs from 'node:fs';
import path from 'node:path';
import { KubeClient, NODES } from '@paved/kube';
import { PACKAGE_ROOT, runCommand } from './paths';
import { ManagedProcess, Reaper } from './processes';
import type { TestCluster } from './cluster';

/** The label KWOK is told to manage nodes by. */
export const KWOK_NODE_LABEL = 'type';
export const KWOK_NODE_LABEL_VALUE = 'kwok';
/** Where KWOK's pod IPs come from; routed nowhere on this machine. */
export const KWOK_POD_CIDR = '10.244.0.0/16';

export interface KwokOptions {
  /** How many fake nodes. Default 1. */
  nodes?: number;
  /** Pods each fake node takes. Default 10,000. */
  podsPerNode?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface Kwok {
  readonly nodeNames: string[];
  readonly logFile: string;
  /** Deletes the fake nodes and stops KWOK. */
  stop(): Promise<void>;
}

/** Builds KWOK once (scripts/build-kwok.sh) and answers its directory. */
async function kwokDir(log: (line: string) => void): Promise<string> {
  const stdout = await runCommand(
    path.join(PACKAGE_ROOT, 'scripts', 'build-kwok.sh'),
    [],
    { log },
  );
  return stdout.trim().split('\n').pop()!;
}

/**
 * Starts KWOK against `cluster` and registers its fake nodes; resolves once
 * they are Ready (schedulable).
 */
export async function startKwok(
  cluster: TestCluster,
  options: KwokOptions = {},
): Promise<Kwok> {
  const log = options.log ?? (() => {});
  const dir = await kwokDir(log);
  const logDir = path.join(cluster.dir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const reaper = new Reaper();
  const process = ManagedProcess.start({
    name: 'kwok',
    command: path.join(dir, 'bin', 'kwok'),
    args: [
      `--kubeconfig=${cluster.kubeconfigPath}`,
      `--config=${path.join(dir, 'kwok.yaml')}`,
      `--manage-nodes-with-label-selector=${KWOK_NODE_LABEL}=${KWOK_NODE_LABEL_VALUE}`,
      // Pod IPs from a range no real pod uses (the node's is 10.88.0.0/16).
      `--cidr=${KWOK_POD_CIDR}`,
      '--node-ip=10.244.255.254',
      '--node-lease-duration-seconds=40',
    ],
    logDir,
    reaper,
  });
  // Nothing answers at a KWOK pod's IP. Without a route the packets go to
  // the default gateway and every probe of Knative's activator and
  // autoscaler waits for its timeout; an unreachable route refuses them at
  // once (best effort: without it the run is only slower).
  const unreachable = await runCommand('ip', [
    'route',
    'replace',
    'unreachable',
    KWOK_POD_CIDR,
  ]).then(
    () => true,
    error => {
      log(`KWOK: no unreachable route for ${KWOK_POD_CIDR}: ${error.message}`);
      return false;
    },
  );
  const dropRoute = ['ip', 'route', 'del', 'unreachable', KWOK_POD_CIDR];
  // Also when Node dies without stopping KWOK.
  if (unreachable) reaper.runWhenDone(dropRoute);
  const removeRoute = async () => {
    if (unreachable) {
      await runCommand(dropRoute[0], dropRoute.slice(1)).catch(() => '');
    }
  };
  const client = await KubeClient.fromKubeConfig(cluster.kubeConfig);
  const count = options.nodes ?? 1;
  const pods = String(options.podsPerNode ?? 10_000);
  const nodeNames = Array.from({ length: count }, (_, i) => `kwok-node-${i}`);
  const capacity = { cpu: '1000', memory: '4Ti', pods };
  try {
    for (const name of nodeNames) {
      await client.apply(NODES, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          labels: {
            [KWOK_NODE_LABEL]: KWOK_NODE_LABEL_VALUE,
            'kubernetes.io/hostname': name,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
          },
          annotations: { 'kwok.x-k8s.io/node': 'fake' },
        },
        status: { capacity, allocatable: capacity },
      });
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = await Promise.all(
        nodeNames.map(async name => {
          const node = await client.get(NODES, name);
          return (node.status as any)?.conditions?.some(
            (c: any) => c.type === 'Ready' && c.status === 'True',
          );
        }),
      );
      if (ready.every(Boolean)) break;
      if (!process.running || Date.now() > deadline) {
        throw new Error(
          `KWOK's nodes did not become Ready (log ${
            process.logFile
          }):\n${process.logTail()}`,
        );
      }
      await new Promise(r => setTimeout(r, 200));
    }
    log(`KWOK: ${count} fake node(s) Ready`);
  } catch (error) {
    client.close();
    await process.stop(0);
    await reaper.done();
    await removeRoute();
    throw error;
  }
  return {
    nodeNames,
    logFile: process.logFile,
    async stop() {
      for (const name of nodeNames) {
        await client.delete(NODES, name).catch(() => false);
      }
      client.close();
      await process.stop();
      await reaper.done();
      await removeRoute();
    },
  };
}
