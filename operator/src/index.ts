/**
 * Paved's operator: reconciles Tenants into isolated namespaces and Apps into
 * Knative Services.
 *
 * @packageDocumentation
 */
export { Operator, detectFeatures } from './operator';
export type { OperatorOptions } from './operator';
export { envFromArgs, settingsFromArgs, settingsFromEnv } from './config';
export type { OperatorSettings } from './config';
export { DEFAULT_DESIRED_STATE_CONFIG } from './desired/config';
export type { DesiredStateConfig } from './desired/config';
export { KubeClient, KubeApiError } from '@paved/kube';
