/**
 * Query strings of the API's GET routes, parsed with zod like the bodies:
 * every parameter a string given once, unknown ones refused by name.
 */
import { InputError } from '@backstage/errors';
import { z } from 'zod';
import { describeIssues } from './issues';

/** A whole number in [min, max] given as a query string value. */
export function wholeNumberParam(name: string, min: number, max: number) {
  return z
    .string({ error: `${name} must be given once, as a whole number` })
    .regex(/^\d{1,9}$/, { error: `${name} must be a whole number` })
    .transform(Number)
    .refine(n => n >= min && n <= max, {
      error: `${name} must be between ${min} and ${max}`,
    });
}

/** `true` or `false` given as a query string value. */
export function booleanParam(name: string) {
  return z
    .enum(['true', 'false'], { error: `${name} must be true or false` })
    .transform(v => v === 'true');
}

/**
 * Parses `query` (Express's req.query) with an object of parameter schemas,
 * or throws an InputError (400) naming the bad or unknown parameter and the
 * ones there are.
 */
export function parseQuery<S extends z.ZodRawShape>(
  shape: S,
  query: Record<string, unknown>,
  route: string,
): z.output<z.ZodObject<S>> {
  const known = Object.keys(shape);
  const unknown = Object.keys(query).filter(k => !known.includes(k));
  if (unknown.length) {
    throw new InputError(
      `Unknown query parameter "${unknown[0]}" for ${route}; ${
        known.length ? `the parameters are ${known.join(', ')}` : 'it has none'
      }`,
    );
  }
  const result = z.object(shape).safeParse(query);
  if (!result.success) {
    throw new InputError(`Invalid query: ${describeIssues(result.error)}`);
  }
  return result.data;
}
