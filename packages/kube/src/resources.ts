/**
 * The table of resource types Paved reads and writes, as REST coordinates:
 * core Kubernetes, Paved's own CRDs, and the optional upstream APIs (Capsule,
 * Cilium, Knative) with the feature each belongs to. Feature detection
 * (`discovery.ts`), the operator's watches and the CRD names it follows are
 * all derived from `OPTIONAL_APIS` and `RESOURCE_TABLE` below.
 */
import {
  ObjectMeta,
  APP_KIND,
  APP_PLURAL,
  PAVED_API_VERSION,
  TENANT_KIND,
  TENANT_PLURAL,
} from '@paved/plugin-paved-common';

/** Paved's ObjectMeta, with the owner references the operator sets. */
export interface KubeMeta extends ObjectMeta {
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: KubeMeta;
  [key: string]: unknown;
}

export interface ObjectList<T extends KubeObject> {
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export function resourcePath(
  type: ResourceType,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  let path = type.group
    ? `/apis/${type.group}/${type.version}`
    : `/api/${type.version}`;
  if (type.namespaced && namespace) {
    path += `/namespaces/${encodeURIComponent(namespace)}`;
  }
  path += `/${type.plural}`;
  if (name) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}

const [pavedGroup, pavedVersion] = PAVED_API_VERSION.split('/');

export const TENANTS: ResourceType = {
  group: pavedGroup,
  version: pavedVersion,
  plural: TENANT_PLURAL,
  kind: TENANT_KIND,
  namespaced: false,
};
export const APPS: ResourceType = {
  group: pavedGroup,
  version: pavedVersion,
  plural: APP_PLURAL,
  kind: APP_KIND,
  namespaced: true,
};
export const NAMESPACES: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
};
export const SECRETS: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'secrets',
  kind: 'Secret',
  namespaced: true,
};
export const EVENTS: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'events',
  kind: 'Event',
  namespaced: true,
};
export const PODS: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'pods',
  kind: 'Pod',
  namespaced: true,
};
export const NODES: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'nodes',
  kind: 'Node',
  namespaced: false,
};
export const DEPLOYMENTS: ResourceType = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};
export const RESOURCE_QUOTAS: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'resourcequotas',
  kind: 'ResourceQuota',
  namespaced: true,
};
export const LIMIT_RANGES: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'limitranges',
  kind: 'LimitRange',
  namespaced: true,
};
export const ROLE_BINDINGS: ResourceType = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  plural: 'rolebindings',
  kind: 'RoleBinding',
  namespaced: true,
};
export const CLUSTER_ROLES: ResourceType = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  plural: 'clusterroles',
  kind: 'ClusterRole',
  namespaced: false,
};
export const NETWORK_POLICIES: ResourceType = {
  group: 'networking.k8s.io',
  version: 'v1',
  plural: 'networkpolicies',
  kind: 'NetworkPolicy',
  namespaced: true,
};
export const CILIUM_NETWORK_POLICIES: ResourceType = {
  group: 'cilium.io',
  version: 'v2',
  plural: 'ciliumnetworkpolicies',
  kind: 'CiliumNetworkPolicy',
  namespaced: true,
};
export const CAPSULE_TENANTS: ResourceType = {
  group: 'capsule.clastix.io',
  version: 'v1beta2',
  plural: 'tenants',
  kind: 'Tenant',
  namespaced: false,
};
export const KNATIVE_SERVICES: ResourceType = {
  group: 'serving.knative.dev',
  version: 'v1',
  plural: 'services',
  kind: 'Service',
  namespaced: true,
};
export const DOMAIN_MAPPINGS: ResourceType = {
  group: 'serving.knative.dev',
  version: 'v1beta1',
  plural: 'domainmappings',
  kind: 'DomainMapping',
  namespaced: true,
};
/**
 * Knative's claim on a custom domain for one namespace: a DomainMapping is
 * served only once its namespace holds the domain's claim (unless the
 * cluster's Knative auto-creates claims, which lets any namespace take any
 * domain).
 */
export const CLUSTER_DOMAIN_CLAIMS: ResourceType = {
  group: 'networking.internal.knative.dev',
  version: 'v1alpha1',
  plural: 'clusterdomainclaims',
  kind: 'ClusterDomainClaim',
  namespaced: false,
};
export const REVISIONS: ResourceType = {
  group: 'serving.knative.dev',
  version: 'v1',
  plural: 'revisions',
  kind: 'Revision',
  namespaced: true,
};
export const CRDS: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};
export const LEASES: ResourceType = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
  namespaced: true,
};

/**
 * The optional upstream APIs, one entry each: the feature it provides and
 * the resource types that belong to it. A feature counts as installed when
 * the cluster serves every one of its types (`detectFeatures`), and its
 * informers are started only then.
 */
export const OPTIONAL_APIS = [
  {
    feature: 'capsule',
    title: 'Capsule',
    types: [CAPSULE_TENANTS],
  },
  {
    feature: 'cilium',
    title: 'Cilium',
    types: [CILIUM_NETWORK_POLICIES],
  },
  {
    feature: 'knative',
    title: 'Knative Serving',
    types: [KNATIVE_SERVICES, REVISIONS, DOMAIN_MAPPINGS],
  },
] as const satisfies readonly OptionalApi[];

export interface OptionalApi {
  /** The key in `ClusterFeatures`. */
  feature: string;
  /** For logs and messages. */
  title: string;
  types: readonly ResourceType[];
}

/** An optional upstream API: `'capsule' | 'cilium' | 'knative'`. */
export type OptionalFeature = (typeof OPTIONAL_APIS)[number]['feature'];

/** Which optional APIs the cluster serves (or a caller forces). */
export type ClusterFeatures = Record<OptionalFeature, boolean>;

export const OPTIONAL_FEATURES: readonly OptionalFeature[] = OPTIONAL_APIS.map(
  api => api.feature,
);

/**
 * Every type in one table: core Kubernetes, Paved's CRDs, and the optional
 * APIs' types (`optional`, with their feature). Types outside it (the
 * ClusterDomainClaim, read with a 404 fallback) need no detection.
 */
export const RESOURCE_TABLE = {
  core: [
    NAMESPACES,
    RESOURCE_QUOTAS,
    LIMIT_RANGES,
    ROLE_BINDINGS,
    CLUSTER_ROLES,
    NETWORK_POLICIES,
    CRDS,
    LEASES,
  ],
  paved: [TENANTS, APPS],
  optional: OPTIONAL_APIS,
} as const;

/** `<plural>.<group>`: how a type's CRD is named ('' group: the plural). */
export function crdName(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

/** The optional feature a type belongs to, if any. */
export function featureOf(type: ResourceType): OptionalFeature | undefined {
  const key = crdName(type);
  return OPTIONAL_APIS.find(api =>
    api.types.some((t: ResourceType) => crdName(t) === key),
  )?.feature;
}

/** The CRD names of every optional API's types. */
export function optionalCrdNames(): Set<string> {
  return new Set(
    OPTIONAL_APIS.flatMap(api =>
      api.types.map((t: ResourceType) => crdName(t)),
    ),
  );
}

export function objectKey(object: { metadata: KubeMeta }): string {
  return object.metadata.namespace
    ? `${object.metadata.namespace}/${object.metadata.name}`
    : object.metadata.name;
}
