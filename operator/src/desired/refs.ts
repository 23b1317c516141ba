/** Re-exports and small parsing helpers for the desired-state functions. */
export { pavedLabels } from '@paved/plugin-paved-common';
export type { AppResource, TenantResource } from '@paved/plugin-paved-common';

/** Splits `group:<namespace>/<name>` (the form the Tenant CRD enforces). */
export function parseEntityRefParts(ref: string): {
  kind: string;
  namespace: string;
  name: string;
} {
  const match = /^([^:]+):([^/]+)\/(.+)$/.exec(ref);
  if (!match) {
    throw new Error(
      `Owner "${ref}" is not an entity ref; write it as "group:default/team-a"`,
    );
  }
  return { kind: match[1], namespace: match[2], name: match[3] };
}
