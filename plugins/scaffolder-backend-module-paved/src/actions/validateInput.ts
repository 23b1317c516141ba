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

/** The input with `defaults` in place of the fields that are undefined or null. */
export function withDefaults<T extends object, D extends Partial<T>>(
  input: T,
  defaults: D,
): T & Required<Pick<T, Extract<keyof D, keyof T>>> {
  const result: any = { ...input };
  for (const [key, value] of Object.entries(defaults)) {
    if (result[key] === undefined || result[key] === null) result[key] = value;
  }
  return result;
}
