import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import { Condition } from '@paved/plugin-paved-common';

/** The conditions the operator reports, one row each. */
export function ConditionsTable({ conditions }: { conditions: Condition[] }) {
  return (
    <Table size="small" aria-label="conditions">
      <TableHead>
        <TableRow>
          <TableCell>Condition</TableCell>
          <TableCell>Status</TableCell>
          <TableCell>Reason</TableCell>
          <TableCell>Message</TableCell>
          <TableCell>Since</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {conditions.map(condition => (
          <TableRow key={condition.type}>
            <TableCell>{condition.type}</TableCell>
            <TableCell>{condition.status}</TableCell>
            <TableCell>{condition.reason}</TableCell>
            <TableCell>{condition.message}</TableCell>
            <TableCell>
              {new Date(condition.lastTransitionTime).toLocaleString()}
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
