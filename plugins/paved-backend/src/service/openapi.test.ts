import fs from 'fs';
import path from 'path';
import { openApiDocument } from './openapi';

// prettier 2 ships no types.
const prettier: {
  format(text: string, options: { parser: string }): string;
} = require('prettier');

const FILE = path.resolve(__dirname, '../../openapi.json');

describe('OpenAPI document', () => {
  it('matches the committed openapi.json (UPDATE_OPENAPI=1 rewrites it)', () => {
    // Formatted as the repository's prettier check wants it.
    const text = prettier.format(JSON.stringify(openApiDocument()), {
      parser: 'json',
    });
    if (process.env.UPDATE_OPENAPI) fs.writeFileSync(FILE, text);
    expect(fs.readFileSync(FILE, 'utf8')).toBe(text);
  });

  it('describes every route of the router', () => {
    const source = fs.readFileSync(path.join(__dirname, 'router.ts'), 'utf8');
    const routes = [
      ...source.matchAll(/router\.(get|post|put|patch|delete)\(\s*'([^']+)'/g),
    ].map(([, method, route]) => [method, route.replace(/:(\w+)/g, '{$1}')]);
    expect(routes.length).toBeGreaterThan(15);
    const doc = openApiDocument() as any;
    for (const [method, route] of routes) {
      if (route === '/openapi.json') continue;
      expect({
        route,
        method,
        documented: Boolean(doc.paths[route]?.[method]),
      }).toEqual({
        route,
        method,
        documented: true,
      });
    }
  });

  it('generates request schemas from the zod schemas', () => {
    const doc = openApiDocument() as any;
    const deploy = doc.components.schemas.DeployAppRequest;
    expect(deploy.required).toEqual(['image']);
    expect(deploy.properties.image.pattern).toBeDefined();
    expect(deploy.additionalProperties).toBe(false);
  });
});
