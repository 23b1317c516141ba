export { createPavedTenantCreateAction } from './createTenant';
export { createPavedAppDeployAction } from './deployApp';
export { createPavedAppDeleteAction } from './deleteApp';
export { createPavedTenantDeleteAction } from './deleteTenant';
export { pavedClientSource } from './pavedClient';
export type { PavedClientSource } from './pavedClient';
