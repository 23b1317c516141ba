import { InputError } from '@backstage/errors';

/**
 * Throws one InputError listing every problem found, before the action
 * changes anything. The Scaffolder validates inputs only against the JSON
 * schema derived from the zod schema, which drops refinements, so the
 * paved-common checks (the same the backend applies) run here.
 */
export function rejectInvalidInput(problems: Array<string | undefined>) {
  const found = problems.filter((p): p is string => Boolean(p));
  if (found.length > 0) {
    throw new InputError(found.join('; '));
  }
}
