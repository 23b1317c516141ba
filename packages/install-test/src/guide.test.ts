import { parseGuide, readGuide } from './guide';
import { GUIDE, PAVED_PACKAGES, mergeConfig } from './freshApp';
import fs from 'node:fs';
import path from 'node:path';

describe('the install guide, as the install test reads it', () => {
  const steps = readGuide(GUIDE);

  it('has every step the test applies, in order', () => {
    expect(steps.map(s => s.kind)).toEqual([
      'upgrade-backstage',
      'dependencies',
      'dependencies',
      'insert',
      'remove',
      'run',
      'merge',
      'kubectl-apply',
    ]);
  });

  it('adds only packages that the test packs, the frontend plugin to the app', () => {
    const packed = PAVED_PACKAGES.map(
      folder =>
        JSON.parse(
          fs.readFileSync(
            path.join(GUIDE, '..', '..', folder, 'package.json'),
            'utf8',
          ),
        ).name,
    );
    const added = steps.flatMap(s =>
      s.kind === 'dependencies' ? s.packages : [],
    );
    expect(added.length).toBeGreaterThan(0);
    for (const name of added) expect(packed).toContain(name);
    expect(steps[2]).toEqual({
      kind: 'dependencies',
      workspace: 'packages/app',
      packages: ['@paved/plugin-paved'],
    });
  });

  it('says where a marker lacks its block, or is unknown', () => {
    expect(() =>
      parseGuide('<!-- install-test: run -->\ntext\n', 'g.md'),
    ).toThrow('g.md:1: the marker is not followed by a code block');
    expect(() =>
      parseGuide(
        'x\n<!-- install-test: paint it -->\n\n```sh\nls\n```\n',
        'g.md',
      ),
    ).toThrow('g.md:2: unknown install-test marker "paint it"');
    expect(() =>
      parseGuide(
        '<!-- install-test: dependencies packages/app -->\n```sh\nyarn add x\n```\n',
        'g.md',
      ),
    ).toThrow('expected a line "yarn --cwd packages/app add <package>…"');
  });

  it('merges configuration key by key, lists appended', () => {
    expect(
      mergeConfig(
        { catalog: { locations: [1], rules: [] }, kubernetes: null },
        { catalog: { locations: [2] }, kubernetes: { a: 1 }, paved: {} },
      ),
    ).toEqual({
      catalog: { locations: [1, 2], rules: [] },
      kubernetes: { a: 1 },
      paved: {},
    });
  });
});
