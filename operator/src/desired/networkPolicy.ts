/**
 * Network isolation of a tenant: traffic inside the namespace, ingress from
 * Knative, the gateway and platform namespaces, DNS to kube-dns, egress to
 * the internet but not to private ranges or cloud metadata.
 *
 * With Cilium the exclusions need `toCIDRSet` with `except`: `toCIDR` has no
 * `except` and would silently allow private ranges.
 */
import { pavedLabels, TenantResource } from './refs';
import { KubeObject } from '../kube/types';
import { DesiredStateConfig } from './config';
import { namespaceName } from './namespace';
import { ISOLATION_POLICY } from './names';

export const PRIVATE_RANGES = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '169.254.0.0/16',
];

function allowedIngressNamespaces(config: DesiredStateConfig): string[] {
  return [
    config.knativeNamespace,
    ...config.gatewayNamespaces,
    ...config.platformNamespaces,
  ];
}

export function desiredCiliumNetworkPolicy(
  tenant: TenantResource,
  config: DesiredStateConfig,
): KubeObject {
  const podNamespace = 'k8s:io.kubernetes.pod.namespace';
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: {
      name: ISOLATION_POLICY,
      namespace: namespaceName(tenant.metadata.name, config),
      labels: pavedLabels(tenant.metadata.name),
    },
    spec: {
      endpointSelector: {},
      ingress: [
        // An empty selector in a namespaced policy means: this namespace.
        { fromEndpoints: [{}] },
        {
          fromEndpoints: allowedIngressNamespaces(config).map(ns => ({
            matchLabels: { [podNamespace]: ns },
          })),
        },
      ],
      egress: [
        { toEndpoints: [{}] },
        {
          toEndpoints: [
            {
              matchLabels: {
                [podNamespace]: 'kube-system',
                'k8s:k8s-app': 'kube-dns',
              },
            },
          ],
          toPorts: [
            {
              ports: [
                { port: '53', protocol: 'UDP' },
                { port: '53', protocol: 'TCP' },
              ],
            },
          ],
        },
        {
          // Calls to other apps go through the gateway.
          toEndpoints: config.gatewayNamespaces.map(ns => ({
            matchLabels: { [podNamespace]: ns },
          })),
        },
        {
          toCIDRSet: [{ cidr: '0.0.0.0/0', except: [...PRIVATE_RANGES] }],
        },
      ],
    },
  };
}

export function desiredNetworkPolicy(
  tenant: TenantResource,
  config: DesiredStateConfig,
): KubeObject {
  const byName = (ns: string) => ({
    namespaceSelector: {
      matchLabels: { 'kubernetes.io/metadata.name': ns },
    },
  });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: ISOLATION_POLICY,
      namespace: namespaceName(tenant.metadata.name, config),
      labels: pavedLabels(tenant.metadata.name),
    },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [
            { podSelector: {} },
            ...allowedIngressNamespaces(config).map(byName),
          ],
        },
      ],
      egress: [
        { to: [{ podSelector: {} }] },
        {
          to: [
            {
              ...byName('kube-system'),
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        { to: config.gatewayNamespaces.map(byName) },
        {
          to: [{ ipBlock: { cidr: '0.0.0.0/0', except: [...PRIVATE_RANGES] } }],
        },
      ],
    },
  };
}
