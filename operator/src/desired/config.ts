/**
 * What a platform team can configure about the objects the operator creates.
 */
import {
  DEFAULT_NAMESPACE_PREFIX,
  DEFAULT_PLANS,
  Plan,
  QUEUE_PROXY_RESOURCES,
} from '@paved/plugin-paved-common';
import { PAVED_OWNER_CLUSTER_ROLE } from './ownerRole';

export interface DesiredStateConfig {
  /** `tenant-` by default: a tenant's namespace is `<prefix><tenant>`. */
  namespacePrefix: string;
  plans: readonly Plan[];
  /** Knative's own namespace: its activator forwards requests to app pods. */
  knativeNamespace: string;
  /** Namespaces of the ingress gateway (Kourier, Istio, …) that may reach apps. */
  gatewayNamespaces: string[];
  /**
   * Addresses (CIDRs) of an ingress gateway on the hosts' network, which no
   * namespace selector matches (a host-network Traefik, say): apps may be
   * reached from them, and tenants' pods may call them (apps' URLs), on
   * `gatewayPorts`. Narrow them (/32): a node's address is its every port.
   */
  gatewayCidrs: string[];
  /** TCP ports of `gatewayCidrs` that pods may call; none means all. */
  gatewayPorts: number[];
  /** Platform namespaces (monitoring, Paved itself) that may reach apps. */
  platformNamespaces: string[];
  /**
   * ClusterRole the tenant's owner group gets in the tenant's namespace:
   * Paved's `paved-tenant-owner` (see `ownerRole.ts`) unless set.
   */
  ownerClusterRole: string;
  /** Prefix of the Kubernetes group an owner maps to (e.g. `oidc:`). */
  ownerGroupPrefix: string;
  /**
   * Requests (and the memory limit) of a container that sets none. The
   * operator sizes Paved's own containers; this is for anything else a
   * tenant's pods carry.
   */
  containerDefaults: { cpu: string; memory: string };
}

export const DEFAULT_DESIRED_STATE_CONFIG: DesiredStateConfig = {
  namespacePrefix: DEFAULT_NAMESPACE_PREFIX,
  plans: DEFAULT_PLANS,
  knativeNamespace: 'knative-serving',
  gatewayNamespaces: ['kourier-system', 'istio-system'],
  gatewayCidrs: [],
  gatewayPorts: [],
  platformNamespaces: ['paved-system'],
  ownerClusterRole: PAVED_OWNER_CLUSTER_ROLE,
  ownerGroupPrefix: '',
  containerDefaults: { ...QUEUE_PROXY_RESOURCES },
};
