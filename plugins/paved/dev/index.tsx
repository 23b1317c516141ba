/**
 * Runs the Paved frontend plugin alone (`yarn start` in this package) in a
 * minimal app of the new frontend system: the tenants page at
 * /paved/tenants, talking to the backend at backend.baseUrl (7007). Start
 * the backend plugin next to it: `yarn start` in plugins/paved-backend.
 */
import { createDevApp } from '@backstage/frontend-dev-utils';
import pavedPlugin from '../src';

createDevApp({ features: [pavedPlugin] });
