/**
 * The operator's options: what `Operator` takes and its leader session
 * reads (here, so that neither imports the other for it).
 */
import {
  ClusterFeatures,
  KubeConfigLike,
  KubeConnection,
  Logger,
} from '@paved/kube';
import { DesiredStateConfig } from './desired/config';

export interface OperatorOptions {
  /** A kubeconfig (client-node's KubeConfig works) or a connection. */
  kubeConfig: KubeConnection | KubeConfigLike;
  config?: Partial<DesiredStateConfig>;
  /** Workers per controller. Default 8. */
  concurrency?: number;
  leaderElection?: {
    namespace: string;
    name: string;
    identity?: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  /** Port of /healthz, /readyz and /metrics; 0 picks one; undefined: no server. */
  metricsPort?: number;
  metricsHost?: string;
  logger?: Logger;
  /** Informer resync period. Default 10 minutes. */
  resyncMs?: number;
  /** Re-check period for things in progress. Default 500 ms. */
  pollMs?: number;
  /** Force features instead of detecting them (tests of fallbacks). */
  features?: Partial<ClusterFeatures>;
  /**
   * How long a new leader session waits for its informers' first lists.
   * When it expires the session fails with the informers that did not sync
   * and their last errors, and the operator starts a new one. Default 120 s.
   */
  syncTimeoutMs?: number;
}
