/**
 * Paved's one Kubernetes library, used by the operator, the backend and the
 * test harness: a REST client (server-side apply, status, watches), the table
 * of resource types, informers, a work queue with per-key backoff, and
 * leader election on a Lease.
 *
 * @packageDocumentation
 */
export * from './client';
export * from './errors';
export * from './kubeconfig';
export * from './exec';
export * from './resources';
export * from './discovery';
export * from './informer';
export * from './workqueue';
export * from './rateLimiter';
export * from './leaderElection';
export * from './logger';
