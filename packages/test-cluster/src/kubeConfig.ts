import * as k8s from '@kubernetes/client-node';

/** A copy of the kubeconfig pointing at another server URL (e.g. a proxy). */
export function withServer(
  kubeConfig: k8s.KubeConfig,
  server: string,
): k8s.KubeConfig {
  const copy = new k8s.KubeConfig();
  copy.loadFromString(kubeConfig.exportConfig());
  const current = copy.getCurrentCluster()!;
  copy.clusters = copy.clusters.map(c =>
    c.name === current.name ? { ...c, server } : c,
  );
  return copy;
}
