import { Route, Routes } from 'react-router-dom';
import { TenantDetailPage, TenantsPage } from './TenantsPage';
import { DeletedTenantPage, DeletedTenantsPage } from './DeletedTenantsPage';

export function TenantsRoutes() {
  return (
    <Routes>
      <Route path="/" element={<TenantsPage />} />
      {/* "-" starts no tenant name, so these never hide a tenant's page. */}
      <Route path="/-/deleted" element={<DeletedTenantsPage />} />
      <Route path="/-/deleted/:uid" element={<DeletedTenantPage />} />
      <Route path="/:tenant" element={<TenantDetailPage />} />
    </Routes>
  );
}
