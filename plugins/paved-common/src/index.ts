/**
 * Paved's shared contracts: identity and labels, validation, the plan
 * catalogue, the Tenant and App schemas, the generated CRDs and permissions.
 *
 * @packageDocumentation
 */
export * from './identity';
export * from './quantity';
export * from './validation';
export * from './plans';
export * from './schemas';
export * from './crds';
export * from './permissions';
export * from './api';
