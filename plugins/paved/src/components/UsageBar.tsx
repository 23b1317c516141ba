import LinearProgress from '@material-ui/core/LinearProgress';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import { parseCpuMillis, parseMemoryBytes } from '@paved/plugin-paved-common';

type Kind = 'cpu' | 'memory' | 'count';

function toNumber(kind: Kind, quantity?: string): number | undefined {
  if (quantity === undefined) return undefined;
  if (kind === 'cpu') return parseCpuMillis(quantity);
  if (kind === 'memory') return parseMemoryBytes(quantity);
  const n = Number(quantity);
  return Number.isFinite(n) ? n : undefined;
}

/** Used against hard quota as a bar: "CPU 1.5 / 4". */
export function UsageBar(props: {
  label: string;
  kind: Kind;
  used?: string;
  hard?: string;
}) {
  const used = toNumber(props.kind, props.used ?? '0');
  const hard = toNumber(props.kind, props.hard);
  const percent =
    used !== undefined && hard ? Math.min(100, (used / hard) * 100) : 0;
  return (
    <Box minWidth={140} aria-label={`${props.label} usage`}>
      <Typography variant="caption">
        {props.label} {props.used ?? '0'} / {props.hard ?? '—'}
      </Typography>
      <LinearProgress
        variant="determinate"
        value={percent}
        color={percent >= 90 ? 'secondary' : 'primary'}
      />
    </Box>
  );
}
