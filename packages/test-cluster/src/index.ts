/**
 * A real Kubernetes control plane (etcd, kube-apiserver,
 * kube-controller-manager) on loopback, for tests and local development.
 *
 * @packageDocumentation
 */
export { startTestCluster } from './cluster';
export type { TestCluster, TestClusterOptions } from './cluster';
export { useTestCluster, useKnativeStatusSimulator } from './jest';
export {
  UPSTREAM_CRD_FILES,
  pinnedUpstreamVersions,
  readCrdFile,
  installCrds,
} from './crds';
export type { UpstreamProject } from './crds';
export { ensureControlPlaneBinaries } from './paths';
export type { ControlPlaneBinaries } from './paths';
export {
  KnativeStatusSimulator,
  KnativeFailures,
  ANNOTATION_TEMPLATE_HASH,
} from './knativeSimulator';
export type {
  KnativeStatusSimulatorOptions,
  RevisionFailure,
} from './knativeSimulator';
export { eventually } from './eventually';
