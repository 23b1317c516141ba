/**
 * Network isolation of a tenant: traffic inside the namespace, ingress from
 * Knative, the gateway and platform namespaces (and a host-network
 * gateway's addresses), DNS to kube-dns, calls to the gateway (apps' URLs),
 * egress to the internet but not to private ranges or cloud metadata.
 * The NetworkPolicy is enforced for real in the tests, by kube-router on the
 * test node (reconcilers/networkIsolation.test.ts).
 *
 * A rule is left out rather than written with an empty list: an empty `to`
 * or `from` (which the API server stores as absent) would match every
 * address, so an empty gateway list would open all egress.
 *
 * With Cilium the exclusions need `toCIDRSet` with `except`: `toCIDR` has no
 * `except` and would silently allow private ranges.
 */
import { pavedLabels, TenantResource } from './refs';
import { KubeObject } from '@paved/kube';
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

const nonEmpty = <T>(items: T[], rule: (items: T[]) => object) =>
  items.length ? [rule(items)] : [];

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
        ...nonEmpty(allowedIngressNamespaces(config), namespaces => ({
          fromEndpoints: namespaces.map(ns => ({
            matchLabels: { [podNamespace]: ns },
          })),
        })),
        ...nonEmpty(config.gatewayCidrs, cidrs => ({
          fromCIDRSet: cidrs.map(cidr => ({ cidr })),
        })),
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
        // Calls to other apps go through the gateway.
        ...nonEmpty(config.gatewayNamespaces, namespaces => ({
          toEndpoints: namespaces.map(ns => ({
            matchLabels: { [podNamespace]: ns },
          })),
        })),
        ...nonEmpty(config.gatewayCidrs, cidrs => ({
          toCIDRSet: cidrs.map(cidr => ({ cidr })),
          ...(config.gatewayPorts.length
            ? {
                toPorts: [
                  {
                    ports: config.gatewayPorts.map(port => ({
                      port: String(port),
                      protocol: 'TCP',
                    })),
                  },
                ],
              }
            : {}),
        })),
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
            ...config.gatewayCidrs.map(cidr => ({ ipBlock: { cidr } })),
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
        // Calls to other apps go through the gateway.
        ...nonEmpty(config.gatewayNamespaces, namespaces => ({
          to: namespaces.map(byName),
        })),
        // A host-network gateway: after kube-proxy's DNAT a call to its
        // Service is a call to this address and port.
        ...nonEmpty(config.gatewayCidrs, cidrs => ({
          to: cidrs.map(cidr => ({ ipBlock: { cidr } })),
          ...(config.gatewayPorts.length
            ? {
                ports: config.gatewayPorts.map(port => ({
                  protocol: 'TCP',
                  port,
                })),
              }
            : {}),
        })),
        {
          to: [{ ipBlock: { cidr: '0.0.0.0/0', except: [...PRIVATE_RANGES] } }],
        },
      ],
    },
  };
}
