import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { NODE_NETWORK } from '../node/node';
import { ManagedProcess, Reaper } from '../processes';
import { applyObjects, KubeObject } from './apply';

/** The identity Traefik's Knative provider uses (a client certificate). */
export const TRAEFIK_USER = 'paved:traefik';

/**
 * What Traefik's Knative provider reads and writes (its client.go: informers
 * on Knative Ingresses, Services and Secrets, and Ingress status updates),
 * plus the Service that Knative's placeholder Services point at.
 */
export function traefikObjects(port: number): KubeObject[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'paved:traefik' },
      rules: [
        {
          apiGroups: ['networking.internal.knative.dev'],
          resources: ['ingresses'],
          verbs: ['get', 'list', 'watch'],
        },
        {
          apiGroups: ['networking.internal.knative.dev'],
          resources: ['ingresses/status'],
          verbs: ['update', 'patch'],
        },
        {
          apiGroups: [''],
          resources: ['services', 'secrets', 'endpoints'],
          verbs: ['get', 'list', 'watch'],
        },
        {
          apiGroups: ['discovery.k8s.io'],
          resources: ['endpointslices'],
          verbs: ['get', 'list', 'watch'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'paved:traefik' },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'paved:traefik',
      },
      subjects: [
        {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'User',
          name: TRAEFIK_USER,
        },
      ],
    },
    // Traefik runs on the node's host network; this Service (endpoints by
    // hand, no selector) is how pods and Knative's placeholder Services reach it.
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'traefik', namespace: 'kube-system' },
      spec: { ports: [{ name: 'http', port: 80, targetPort: port }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'traefik',
        namespace: 'kube-system',
        labels: { 'kubernetes.io/service-name': 'traefik' },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [NODE_NETWORK.gateway] }],
      ports: [{ name: 'http', port, protocol: 'TCP' }],
    },
  ];
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function portAnswers(
  port: number,
  host = '127.0.0.1',
): Promise<boolean> {
  return new Promise(resolve => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts Traefik with its Knative provider on the host: one entry point on
 * loopback (for the machine's browser and tests) and one on the bridge's
 * gateway (for pods), both on `port`.
 */
export async function startTraefik(options: {
  binary: string;
  dir: string;
  port: number;
  /** The TLS entry point's port on 127.0.0.1 (none: HTTP only). */
  tlsPort?: number;
  kubeConfig: k8s.KubeConfig;
  /** A kubeconfig file for TRAEFIK_USER. */
  kubeconfigPath: string;
  logDir: string;
  reaper: Reaper;
  timeoutMs: number;
}): Promise<ManagedProcess> {
  await applyObjects(options.kubeConfig, traefikObjects(options.port));
  await fsp.mkdir(options.dir, { recursive: true });
  const traefik = ManagedProcess.start({
    name: 'traefik',
    command: options.binary,
    logDir: options.logDir,
    reaper: options.reaper,
    env: { KUBECONFIG: options.kubeconfigPath },
    args: [
      `--entrypoints.web.address=127.0.0.1:${options.port}`,
      `--entrypoints.pods.address=${NODE_NETWORK.gateway}:${options.port}`,
      // HTTPS for custom domains: the provider adds a TLS router (same
      // rule) for each KIngress with `tls` entries, with the certificate
      // from the entry's Secret (same namespace); TLS routers answer only
      // TLS connections, so this entry point serves HTTPS.
      ...(options.tlsPort
        ? [`--entrypoints.websecure.address=127.0.0.1:${options.tlsPort}`]
        : []),
      '--experimental.knative=true',
      '--providers.knative=true',
      // Public routes on both entry points; cluster-local ones (a
      // DomainMapping's rewritten host comes back through the Service on
      // the bridge) only where pods and Traefik itself connect.
      `--providers.knative.publicentrypoints=web,pods${
        options.tlsPort ? ',websecure' : ''
      }`,
      '--providers.knative.privateentrypoints=pods',
      '--providers.knative.publicservice.name=traefik',
      '--providers.knative.publicservice.namespace=kube-system',
      '--providers.knative.throttleduration=0s',
      '--log.level=INFO',
      '--accesslog=true',
      `--accesslog.filepath=${path.join(options.logDir, 'traefik-access.log')}`,
      '--global.checknewversion=false',
      '--global.sendanonymoususage=false',
    ],
  });
  const deadline = Date.now() + options.timeoutMs;
  while (
    !(await portAnswers(options.port)) ||
    (options.tlsPort && !(await portAnswers(options.tlsPort)))
  ) {
    if (!traefik.running) {
      throw new Error(`traefik exited:\n${traefik.logTail()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `traefik did not listen on ${options.port}:\n${traefik.logTail()}`,
      );
    }
    await new Promise(r => setTimeout(r, 100));
  }
  return traefik;
}
