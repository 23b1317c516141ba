/**
 * An App's children, in reconcile order (reconciled concurrently, no gate);
 * deletion goes in reverse: the mappings before the Service they point at.
 * Adding a child is one entry here.
 */
import { AppResource, LABEL_APP } from '@paved/plugin-paved-common';
import { APPS } from '@paved/kube';
import { AppChildInput, ChildRegistry } from '../children';
import { domainMappingsChild } from './domainMappings';
import { knativeServiceChild } from './knativeService';

export const APP_CHILDREN: ChildRegistry<AppChildInput, AppResource> = {
  owner: APPS,
  ownerKey: child => {
    const app = child.metadata.labels?.[LABEL_APP];
    return app ? `${child.metadata.namespace}/${app}` : undefined;
  },
  children: [knativeServiceChild, domainMappingsChild],
};
