/**
 * What reconcilers share: the API client, the configuration, which optional
 * APIs the cluster serves, and the informer caches they read from.
 */
import { KubeClient } from '@paved/kube';
import { KubeObject } from '@paved/kube';
import { Informer } from '@paved/kube';
import { Logger } from '@paved/kube';
import { DesiredStateConfig } from '../desired/config';

/** Optional APIs, detected from the CRDs the cluster serves. */
export interface ClusterFeatures {
  capsule: boolean;
  cilium: boolean;
  knative: boolean;
}

export interface ReconcileContext {
  client: KubeClient;
  config: DesiredStateConfig;
  features: ClusterFeatures;
  logger: Logger;
  /** How long to wait before looking again at something still in progress. */
  pollMs: number;
  informers: {
    tenants: Informer;
    apps: Informer;
    namespaces: Informer;
    resourceQuotas: Informer;
    limitRanges: Informer;
    roleBindings: Informer;
    networkPolicies: Informer;
    /** Present once the CRD is served. */
    ciliumNetworkPolicies?: Informer;
    capsuleTenants?: Informer;
    knativeServices?: Informer;
    domainMappings?: Informer;
    revisions?: Informer;
  };
}

export function cacheKey(name: string, namespace?: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function cached(
  informer: Informer | undefined,
  name: string,
  namespace?: string,
): KubeObject | undefined {
  return informer?.get(cacheKey(name, namespace));
}
