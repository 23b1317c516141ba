import FormControl from '@material-ui/core/FormControl';
import FormHelperText from '@material-ui/core/FormHelperText';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Select from '@material-ui/core/Select';
import { FieldExtensionComponentProps } from '@backstage/plugin-scaffolder-react';
import { apiErrorMessage } from '@paved/plugin-paved-common';
import { usePolledPaved } from '../hooks';

/** `ui:field: PavedPlanPicker`: picks a plan from the configured catalogue. */
export function PlanPicker(props: FieldExtensionComponentProps<string>) {
  const { formData, onChange, schema, required, rawErrors } = props;
  const plans = usePolledPaved(api => api.listPlans(), [], {
    intervalMs: 0,
  });
  return (
    <FormControl
      fullWidth
      margin="normal"
      required={required}
      error={!!rawErrors?.length || !!plans.error}
    >
      <InputLabel id="paved-plan-label">{schema.title ?? 'Plan'}</InputLabel>
      <Select
        labelId="paved-plan-label"
        data-testid="paved-plan-picker"
        value={formData ?? ''}
        onChange={e => onChange(e.target.value as string)}
      >
        {(plans.value?.items ?? []).map(p => (
          <MenuItem key={p.name} value={p.name}>
            {p.name}: {p.cpu} CPU, {p.memory} memory, up to {p.maxApps} apps
          </MenuItem>
        ))}
      </Select>
      <FormHelperText>
        {plans.error
          ? `Could not load the plans: ${apiErrorMessage(plans.error)}`
          : schema.description}
      </FormHelperText>
    </FormControl>
  );
}
