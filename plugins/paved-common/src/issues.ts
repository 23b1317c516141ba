/**
 * How a zod error reads in an API answer. A module of its own, so that the
 * modules that parse (api, query) do not import each other.
 */
import { z } from 'zod';

/** Formats zod issues as `field: what to fix` pairs. */
export function describeIssues(error: z.ZodError, prefix?: string): string {
  return error.issues
    .map(issue => {
      const path = [prefix, ...issue.path.map(String)]
        .filter(Boolean)
        .join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
