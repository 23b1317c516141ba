/**
 * The OpenAPI 3.1 document the router serves at `/api/paved/openapi.json`.
 * It is generated in `@paved/plugin-paved-common` (src/openapi.ts) from the
 * same zod schemas that type the API and validate its requests; the
 * committed `openapi.json` is checked against it, and every route's answers
 * against it, by openapi.test.ts.
 */
export { openApiDocument } from '@paved/plugin-paved-common';
