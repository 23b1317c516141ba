/**
 * What a tenant's owner group may do in the tenant's namespace: the one place
 * the owner role is defined. The operator applies this ClusterRole when it
 * starts leading (and again every resync period), and binds each tenant's
 * owner group to it in the tenant's namespace only (a RoleBinding, or
 * Capsule's owner `clusterRoles`).
 *
 * The shape of a Cloud-Run-like tenant: an owner changes apps through Paved
 * (the backend writes the App, the operator the Knative Service), and reads
 * what runs. So the role is read-only on workloads and Secrets, read-write
 * on ConfigMaps, and gives nothing that loosens the tenant's isolation or
 * lets the owner grant rights:
 *
 * - no writes to NetworkPolicies or CiliumNetworkPolicies (the isolation
 *   policy closes private ranges and 169.254/16; an owner's allow policy
 *   would reopen them), nor to ResourceQuotas or LimitRanges (the plan);
 * - no Roles or RoleBindings (a RoleBinding to `admin` in the namespace
 *   would hand out everything the operator's `bind` covers);
 * - no `pods/exec`, `pods/attach` or `pods/portforward`: an app is its image
 *   and its App spec, and a shell into a running container is a change no
 *   revision records (Cloud Run has none either). Logs and events are the
 *   debugging tools. A platform that wants exec sets its own role.
 * - Secrets: read only. Every Secret in a tenant namespace is the
 *   platform's: an app's secret env values (`<app>-paved-env`) and the TLS
 *   certificates of its custom domains (`paved-tls-<domain>`, which the
 *   ingress serves for the domain). Owners change them through Paved, never
 *   in the cluster: a certificate swapped in the namespace would serve a
 *   domain with whatever the owner put there, outside the backend's checks
 *   and history, and an env value edited there was lost on the next
 *   change anyway. (RBAC cannot deny one Secret while granting writes on
 *   the others, so writes go altogether.)
 * - nothing cluster-scoped: the rules are bound per namespace, so even a
 *   cluster-scoped resource listed here would not be granted.
 */
import { LABEL_MANAGED_BY, MANAGED_BY_PAVED } from '@paved/plugin-paved-common';
import { KubeObject } from '@paved/kube';

/** The ClusterRole Paved binds owners to by default (`PAVED_OWNER_CLUSTER_ROLE`). */
export const PAVED_OWNER_CLUSTER_ROLE = 'paved-tenant-owner';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const READ = ['get', 'list', 'watch'];
const READ_WRITE = [...READ, 'create', 'update', 'patch', 'delete'];

export const OWNER_ROLE_RULES: readonly PolicyRule[] = [
  // What runs, and why it does or does not.
  {
    apiGroups: [''],
    resources: [
      'pods',
      'pods/log',
      'events',
      'services',
      'endpoints',
      'resourcequotas',
      'limitranges',
    ],
    verbs: READ,
  },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
  {
    apiGroups: ['discovery.k8s.io'],
    resources: ['endpointslices'],
    verbs: READ,
  },
  // Knative runs each revision as a Deployment.
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'replicasets'],
    verbs: READ,
  },
  {
    apiGroups: ['serving.knative.dev'],
    resources: [
      'services',
      'revisions',
      'routes',
      'configurations',
      'domainmappings',
    ],
    verbs: READ,
  },
  { apiGroups: ['paved.dev'], resources: ['apps'], verbs: READ },
  // The isolation the tenant lives in: visible, not editable.
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['networkpolicies'],
    verbs: READ,
  },
  {
    apiGroups: ['cilium.io'],
    resources: ['ciliumnetworkpolicies'],
    verbs: READ,
  },
  // `kubectl top pods`, where metrics-server runs.
  { apiGroups: ['metrics.k8s.io'], resources: ['pods'], verbs: READ },
  // The configuration apps read: ConfigMaps are the owner's, Secrets the
  // platform's (env secret values, TLS certificates).
  { apiGroups: [''], resources: ['configmaps'], verbs: READ_WRITE },
  { apiGroups: [''], resources: ['secrets'], verbs: READ },
];

export function desiredOwnerClusterRole(): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name: PAVED_OWNER_CLUSTER_ROLE,
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY_PAVED },
    },
    rules: OWNER_ROLE_RULES.map(rule => ({
      apiGroups: [...rule.apiGroups],
      resources: [...rule.resources],
      verbs: [...rule.verbs],
    })),
  };
}
