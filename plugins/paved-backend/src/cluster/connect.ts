import {
  KubeClient,
  KubeConnection,
  connectionFromKubeConfigFile,
  inClusterConnection,
  kubeconfigFromEnv,
} from '@paved/kube';

/** A request to the API server with no answer for this long fails. */
export const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Where the cluster is, from `paved.kubernetes`: the kubeconfig file
 * `paved.kubernetes.kubeconfig`, else the pod's service account when
 * `paved.kubernetes.inCluster` is true, else the first file of
 * `KUBECONFIG`; undefined when none is configured. Read by `@paved/kube`'s
 * kubeconfig loader, as the operator's credentials are: a token, a token
 * file, a client certificate, or an exec credential plugin (EKS, GKE, AKS,
 * OIDC); the deprecated auth-provider plugins are refused, naming the exec
 * plugin that replaces them.
 */
export function loadKubeConnection(options: {
  kubeconfigPath?: string;
  inCluster?: boolean;
  env?: NodeJS.ProcessEnv;
}): KubeConnection | undefined {
  const env = options.env ?? process.env;
  if (options.kubeconfigPath) {
    return connectionFromKubeConfigFile(options.kubeconfigPath);
  }
  if (options.inCluster) {
    const inCluster = inClusterConnection(env);
    if (!inCluster) {
      throw new Error(
        'paved.kubernetes.inCluster is true, but this is not a pod with a service account (KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT and /var/run/secrets/kubernetes.io/serviceaccount/token); set paved.kubernetes.kubeconfig instead',
      );
    }
    return inCluster;
  }
  const fromEnv = kubeconfigFromEnv(env);
  return fromEnv ? connectionFromKubeConfigFile(fromEnv) : undefined;
}

/** The backend's client of the configured cluster, or undefined when none is. */
export async function connectToCluster(
  options: Parameters<typeof loadKubeConnection>[0],
): Promise<KubeClient | undefined> {
  const connection = loadKubeConnection(options);
  return connection
    ? KubeClient.fromKubeConfig(connection, { timeoutMs: REQUEST_TIMEOUT_MS })
    : undefined;
}
