import { createFormField } from '@backstage/plugin-scaffolder-react/alpha';
import { TenantPicker } from './TenantPicker';
import { PlanPicker } from './PlanPicker';

export const PavedTenantPickerField = createFormField({
  name: 'PavedTenantPicker',
  component: TenantPicker,
});

export const PavedPlanPickerField = createFormField({
  name: 'PavedPlanPicker',
  component: PlanPicker,
});
