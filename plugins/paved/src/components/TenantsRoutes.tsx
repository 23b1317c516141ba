import { ReactRouterV6PageRouter } from '@backstage/frontend-adapter-react-router-v6';
import { Route, Routes } from 'react-router-dom';
import { TenantDetailPage, TenantsPage } from './TenantsPage';
import { DeletedTenantPage, DeletedTenantsPage } from './DeletedTenantsPage';

/**
 * The tenants page's own routes, in React Router v6: the page declares its
 * adapter (Backstage 1.57's scoped plugin routing), which scopes the router
 * to where the app mounts the page.
 */
export function TenantsRoutes() {
  return (
    <ReactRouterV6PageRouter>
      <Routes>
        <Route path="/" element={<TenantsPage />} />
        {/* "-" starts no tenant name, so these never hide a tenant's page. */}
        <Route path="/-/deleted" element={<DeletedTenantsPage />} />
        <Route path="/-/deleted/:uid" element={<DeletedTenantPage />} />
        <Route path="/:tenant" element={<TenantDetailPage />} />
      </Routes>
    </ReactRouterV6PageRouter>
  );
}
