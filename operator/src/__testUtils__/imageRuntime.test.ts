import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asTheImageRunsIt, imageRuntime } from './imageRuntime';

function dockerfile(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paved-dockerfile-'));
  const file = path.join(dir, 'Dockerfile');
  fs.writeFileSync(file, text);
  return file;
}

describe('imageRuntime', () => {
  it("reads the final stage's ENV and ENTRYPOINT, Node.js's flags between the binary and the bundle", () => {
    const runtime = imageRuntime(
      dockerfile(
        [
          'FROM node:22 AS build',
          'ENV BUILD_ONLY=1',
          'ENTRYPOINT ["/bin/false"]',
          'FROM distroless',
          'ENV A=1 B=two',
          'ENTRYPOINT ["/nodejs/bin/node", "--x=1", "--y", "/operator/main.js"]',
        ].join('\n'),
      ),
    );
    expect(runtime).toEqual({
      entrypoint: ['/nodejs/bin/node', '--x=1', '--y', '/operator/main.js'],
      nodeFlags: ['--x=1', '--y'],
      env: { A: '1', B: 'two' },
    });
  });

  it('says what changed when the ENTRYPOINT is not node, flags, a bundle', () => {
    expect(() =>
      imageRuntime(dockerfile('FROM x\nENTRYPOINT ["/bin/sh", "-c", "x"]\n')),
    ).toThrow(/no longer \["…\/node", flags…, "…\/main.js"\]/);
    expect(() => imageRuntime(dockerfile('FROM x\nCMD ["x"]\n'))).toThrow(
      /no ENTRYPOINT/,
    );
    expect(() =>
      imageRuntime(dockerfile('FROM x\nENV A\nENTRYPOINT ["/node", "m.js"]\n')),
    ).toThrow(/ENV A: want KEY=VALUE pairs/);
  });

  it("runs the benchmarks' operator with the shipped Dockerfile's flags and ENV, or OPERATOR_NODE_FLAGS", () => {
    const shipped = imageRuntime();
    expect(asTheImageRunsIt('/b/main.js', {})).toEqual({
      args: [...shipped.nodeFlags, '/b/main.js'],
      env: shipped.env,
    });
    expect(
      asTheImageRunsIt('/b/main.js', { OPERATOR_NODE_FLAGS: ' --lite-mode ' })
        .args,
    ).toEqual(['--lite-mode', '/b/main.js']);
  });
});
