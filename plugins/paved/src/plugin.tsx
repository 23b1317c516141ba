import {
  createFrontendPlugin,
  createRouteRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { FormFieldBlueprint } from '@backstage/plugin-scaffolder-react/alpha';
import { Entity } from '@backstage/catalog-model';
import { ANNOTATION_APP } from '@paved/plugin-paved-common';
import GroupWorkIcon from '@material-ui/icons/GroupWork';
import { pavedApi } from './api';

const isPavedApp = (entity: Entity) =>
  Boolean(entity.metadata.annotations?.[ANNOTATION_APP]);

/** The "Deployment" tab on entities annotated `paved.dev/app`. */
const appDeploymentContent = EntityContentBlueprint.make({
  name: 'deployment',
  params: {
    path: '/deployment',
    title: 'Deployment',
    filter: isPavedApp,
    loader: () =>
      import('./components/AppDeploymentContent').then(m => (
        <m.AppDeploymentContent />
      )),
  },
});

/** The status card on the entity overview. */
const appOverviewCard = EntityCardBlueprint.make({
  name: 'deployment',
  params: {
    filter: isPavedApp,
    loader: () =>
      import('./components/AppDeploymentContent').then(m => (
        <m.AppOverviewCard />
      )),
  },
});

/** The tenants page; with a route ref it also gets an item in the sidebar. */
export const tenantsRouteRef = createRouteRef();

/** Tenants: the list at /paved/tenants and one tenant at /paved/tenants/:tenant. */
const tenantsPage = PageBlueprint.make({
  params: {
    path: '/paved/tenants',
    title: 'Tenants',
    icon: <GroupWorkIcon />,
    routeRef: tenantsRouteRef,
    loader: () =>
      import('./components/TenantsRoutes').then(m => <m.TenantsRoutes />),
  },
});

const tenantPickerField = FormFieldBlueprint.make({
  name: 'tenant-picker',
  params: {
    field: () => import('./fields').then(m => m.PavedTenantPickerField),
  },
});

const planPickerField = FormFieldBlueprint.make({
  name: 'plan-picker',
  params: { field: () => import('./fields').then(m => m.PavedPlanPickerField) },
});

/** Paved's frontend plugin (new frontend system). */
export const pavedPlugin = createFrontendPlugin({
  pluginId: 'paved',
  routes: { tenants: tenantsRouteRef },
  extensions: [
    pavedApi,
    appDeploymentContent,
    appOverviewCard,
    tenantsPage,
    tenantPickerField,
    planPickerField,
  ],
});
