import Chip from '@material-ui/core/Chip';

const COLORS: Record<string, { background: string; color: string }> = {
  Ready: { background: '#2e7d32', color: '#fff' },
  Active: { background: '#2e7d32', color: '#fff' },
  Deploying: { background: '#1565c0', color: '#fff' },
  Pending: { background: '#757575', color: '#fff' },
  Paused: { background: '#6d4c41', color: '#fff' },
  Deleting: { background: '#ef6c00', color: '#fff' },
  Failed: { background: '#c62828', color: '#fff' },
  Unknown: { background: '#9e9e9e', color: '#fff' },
};

/** The phase of an app or tenant as a coloured chip; "Unknown" when the cluster has not told. */
export function PhaseChip(props: { phase?: string; known?: boolean }) {
  const phase = props.known === false ? 'Unknown' : props.phase ?? 'Pending';
  const style = COLORS[phase] ?? COLORS.Unknown;
  return (
    <Chip
      size="small"
      label={phase}
      data-testid="paved-phase"
      style={{ ...style, fontWeight: 600 }}
    />
  );
}
