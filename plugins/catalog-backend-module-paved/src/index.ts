/**
 * Catalog module that puts each Paved app into the catalog as a Component
 * owned by its tenant's owner group (`backend.add(import(...))`).
 *
 * @packageDocumentation
 */
export { catalogModulePavedEntityProvider as default } from './module';
export { catalogModulePavedEntityProvider } from './module';
export { PavedEntityProvider } from './PavedEntityProvider';
