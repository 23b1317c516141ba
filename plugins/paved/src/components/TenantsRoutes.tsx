import { Route, Routes } from 'react-router-dom';
import { TenantDetailPage, TenantsPage } from './TenantsPage';

export function TenantsRoutes() {
  return (
    <Routes>
      <Route path="/" element={<TenantsPage />} />
      <Route path="/:tenant" element={<TenantDetailPage />} />
    </Routes>
  );
}
