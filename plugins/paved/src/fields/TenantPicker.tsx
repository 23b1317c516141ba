import FormControl from '@material-ui/core/FormControl';
import FormHelperText from '@material-ui/core/FormHelperText';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Select from '@material-ui/core/Select';
import { FieldExtensionComponentProps } from '@backstage/plugin-scaffolder-react';
import { apiErrorMessage } from '@paved/plugin-paved-common';
import { usePolledPaved } from '../hooks';

/**
 * `ui:field: PavedTenantPicker`: picks one of the tenants the user may
 * deploy into (the backend lists only those).
 */
export function TenantPicker(props: FieldExtensionComponentProps<string>) {
  const { formData, onChange, schema, required, rawErrors } = props;
  const tenants = usePolledPaved(api => api.listTenants(), [], {
    intervalMs: 0,
  });
  const items = tenants.value?.items ?? [];
  const noTenants = !tenants.loading && !tenants.error && items.length === 0;
  let helperText = schema.description;
  if (tenants.error) {
    helperText = `Could not load your tenants: ${apiErrorMessage(
      tenants.error,
    )}`;
  } else if (noTenants) {
    helperText =
      'You have no tenant to deploy into; create one with the "Create a tenant" template first.';
  }
  return (
    <FormControl
      fullWidth
      margin="normal"
      required={required}
      error={!!rawErrors?.length || !!tenants.error || noTenants}
    >
      <InputLabel id="paved-tenant-label">
        {schema.title ?? 'Tenant'}
      </InputLabel>
      <Select
        labelId="paved-tenant-label"
        data-testid="paved-tenant-picker"
        value={formData ?? ''}
        onChange={e => onChange(e.target.value as string)}
      >
        {items.map(t => (
          <MenuItem key={t.name} value={t.name}>
            {t.displayName} ({t.name})
          </MenuItem>
        ))}
      </Select>
      <FormHelperText>{helperText}</FormHelperText>
    </FormControl>
  );
}
