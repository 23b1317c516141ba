/**
 * Paved's frontend plugin: app status and URL on catalog entity pages,
 * tenant views, owner actions and scaffolder fields (new frontend system).
 *
 * @packageDocumentation
 */
export { pavedPlugin as default } from './plugin';
export { pavedApiRef } from './api';
export type { PavedApi } from './api';
export { AppStatusCard } from './components/AppStatusCard';
