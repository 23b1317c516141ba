import type { TemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  actionInputJsonSchema,
  apiErrorStatus,
} from '@paved/plugin-paved-common';

/**
 * The action with, as its input schema, the JSON schema of its paved-common
 * zod schema (`createTemplateAction` takes only the Scaffolder's own zod 3,
 * so the action declares no input there and parses its input itself, with
 * `parseActionInput`).
 */
export function withInputSchema<A extends TemplateAction<any, any, any>>(
  action: A,
  input: Parameters<typeof actionInputJsonSchema>[0],
): A {
  return {
    ...action,
    schema: { ...action.schema, input: actionInputJsonSchema(input) as any },
  };
}

/** True when the API answered 404. */
export function isNotFound(error: unknown): boolean {
  return apiErrorStatus(error) === 404;
}
