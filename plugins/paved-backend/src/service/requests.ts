/**
 * The request schemas and parsing helpers the router uses. They live in
 * `@paved/plugin-paved-common` (src/api.ts), the one source of the API's
 * shape; this module only re-exports them under the names the router
 * imports, until it imports them from paved-common itself.
 */
export {
  createTenantRequestSchema,
  deployAppRequestSchema,
  describeIssues,
  emptyRequestSchema,
  envVarInputSchema,
  parseAppName,
  parseExpectedGenerationQuery,
  parseInput,
  parseTenantName,
  patchEnvRequestSchema,
  rollbackRequestSchema,
  updateTenantRequestSchema,
} from '@paved/plugin-paved-common';
