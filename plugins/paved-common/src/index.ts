/**
 * Paved's shared contracts: identity and labels, validation, the plan
 * catalogue, the Tenant and App schemas, the generated CRDs, permissions,
 * and the REST API (schemas, types, OpenAPI document, client, app status).
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
export * from './client';
export * from './openapi';
export * from './appStatus';
export * from './actionInputs';
export * from './query';
export * from './history';
export * from './logs';
export * from './domains';
export * from './signals';
