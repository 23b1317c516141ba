import fs from 'fs';
import path from 'path';
import YAML from 'yaml';
import { pavedCrds, toStructuralSchema } from './crds';

const CRD_DIR = path.resolve(__dirname, '../crds');
const HEADER =
  '# Generated from the zod schemas in plugins/paved-common/src/schemas.ts.\n' +
  '# Do not edit: run `yarn generate:crds`.\n';

/** The committed YAML of each CRD, as the generator would write it. */
function renderCrds(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(pavedCrds()).map(([file, crd]) => [
      file,
      HEADER + YAML.stringify(crd, { lineWidth: 0 }),
    ]),
  );
}

describe('generated CRDs', () => {
  it('match the committed YAML (run `yarn generate:crds` after changing a schema)', () => {
    const rendered = renderCrds();
    if (process.env.UPDATE_CRDS) {
      fs.mkdirSync(CRD_DIR, { recursive: true });
      for (const [file, text] of Object.entries(rendered)) {
        fs.writeFileSync(path.join(CRD_DIR, file), text);
      }
    }
    for (const [file, text] of Object.entries(rendered)) {
      const committed = fs.readFileSync(path.join(CRD_DIR, file), 'utf8');
      expect(committed).toBe(text);
    }
  });

  it('carry the patterns and defaults of the zod schemas', () => {
    const app = pavedCrds()['apps.paved.dev.yaml'] as any;
    const spec = app.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    expect(spec.required).toEqual(['image']);
    expect(spec.properties.image.pattern).toMatch(/sha256/);
    expect(spec.properties.port).toMatchObject({
      type: 'integer',
      default: 8080,
      minimum: 1,
      maximum: 65535,
    });
    expect(spec.properties.env.items['x-kubernetes-validations']).toHaveLength(
      1,
    );
    expect(spec.properties.scaling.properties.minInstances.default).toBe(0);
    const tenant = pavedCrds()['tenants.paved.dev.yaml'] as any;
    expect(tenant.spec.scope).toBe('Cluster');
    const tspec =
      tenant.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    expect(tspec.required).toEqual(['displayName', 'owner']);
    expect(tspec.properties.networkIsolation.default).toBe(true);
  });

  it('refuses schema nodes without a type, which the API server would reject', () => {
    expect(() => toStructuralSchema({ description: 'anything' })).toThrow(
      /no type/,
    );
    expect(
      toStructuralSchema({
        type: 'object',
        additionalProperties: false,
        properties: { a: { type: 'string' } },
      }),
    ).toEqual({ type: 'object', properties: { a: { type: 'string' } } });
  });
});
