/**
 * A real Kubernetes control plane (etcd, kube-apiserver,
 * kube-controller-manager) on loopback, and on demand a real data plane (a
 * node running real containers, Knative Serving, Traefik), for tests and
 * local development.
 *
 * @packageDocumentation
 */
export { startTestCluster } from './cluster';
export type { TestCluster, TestClusterOptions } from './cluster';
export type { DataPlane, DataPlaneOptions } from './dataPlane/dataPlane';
export { requestThroughIngress } from './dataPlane/ingress';
export type { IngressResponse } from './dataPlane/ingress';
export { EXAMPLE_APP_IMAGE, LOCAL_REGISTRY, NODE_NETWORK } from './node/node';
export { QUICK_DATA_PLANE, useDataPlaneCluster, useTestCluster } from './jest';
export {
  UPSTREAM_CRD_FILES,
  pinnedUpstreamVersions,
  readCrdFile,
  installCrds,
} from './crds';
export type { CustomResourceDefinition, UpstreamProject } from './crds';
export { ensureControlPlaneBinaries } from './paths';
export type { ControlPlaneBinaries } from './paths';
export { ensureHelm } from './helm';
export { eventually } from './eventually';
export { withServer } from './kubeConfig';
export { TcpProxy } from './tcpProxy';
export {
  machineLoad,
  percentile,
  rssKiB,
  runBenchmark,
  wholeNumberFlag,
} from './benchKit';
export { freePorts } from './processes';
export { startKwok, KWOK_NODE_LABEL, KWOK_NODE_LABEL_VALUE } from './kwok';
export type { Kwok, KwokOptions } from './kwok';
