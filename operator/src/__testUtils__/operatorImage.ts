/**
 * An operator image for the test cluster's node, made without Docker: the
 * esbuild bundle (as operator/Dockerfile's) and this Node.js binary with the
 * shared libraries it loads, laid out as the distroless image is
 * (/nodejs/bin/node, /operator/main.js, user 65532), written as a `docker
 * save` tarball by packages/test-cluster's mkimage for `ctr images import`.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { imageRuntime } from './imageRuntime';

const run = promisify(execFile);

const OPERATOR_DIR = path.resolve(__dirname, '..', '..');
const IMAGES_MODULE = path.join(
  path.dirname(require.resolve('@paved/test-cluster/package.json')),
  'go',
  'images',
);

/** The `bundle` script of operator/package.json, writing to `outfile`. */
async function bundle(outfile: string): Promise<void> {
  const script: string = JSON.parse(
    fs.readFileSync(path.join(OPERATOR_DIR, 'package.json'), 'utf8'),
  ).scripts.bundle;
  const [command, ...args] = script.split(/\s+/);
  if (command !== 'esbuild') {
    throw new Error(`operator/package.json's bundle script changed: ${script}`);
  }
  const esbuild = path.join(
    path.dirname(require.resolve('esbuild/package.json')),
    'bin',
    'esbuild',
  );
  await run(
    esbuild,
    args.map(a => (a.startsWith('--outfile=') ? `--outfile=${outfile}` : a)),
    { cwd: OPERATOR_DIR },
  );
}

/** The absolute paths of the shared objects `binary` loads (ldd). */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]);
  return [...stdout.matchAll(/(\/\S+) \(0x/g)].map(m => m[1]);
}

/**
 * Writes the image `name` to `<dir>/operator.tar` and answers that path.
 * Takes a few seconds (mkimage is a cached `go build`).
 */
export async function buildOperatorImage(
  dir: string,
  name: string,
): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const main = path.join(dir, 'main.js');
  const mkimage = path.join(dir, 'mkimage');
  await Promise.all([
    bundle(main),
    run('go', ['build', '-trimpath', '-o', mkimage, './cmd/mkimage'], {
      cwd: IMAGES_MODULE,
      env: { ...process.env, CGO_ENABLED: '0', GOWORK: 'off' },
    }),
  ]);
  const node = process.execPath;
  const runtime = imageRuntime();
  const files = [
    `${node}:${runtime.entrypoint[0]}:0755`,
    `${main}:${runtime.entrypoint[runtime.entrypoint.length - 1]}:0644`,
    // At the paths ldd found them, so the loader finds them in the image.
    ...(await sharedLibraries(node)).map(lib => `${lib}:${lib}`),
  ];
  const tarball = path.join(dir, 'operator.tar');
  await run(mkimage, [
    `--name=${name}`,
    `--out=${tarball}`,
    ...files.map(f => `--file=${f}`),
    // operator/Dockerfile's ENTRYPOINT and ENV.
    ...runtime.entrypoint.map(e => `--entrypoint=${e}`),
    ...Object.entries(runtime.env).map(([k, v]) => `--env=${k}=${v}`),
    '--workdir=/operator',
    '--expose=8080/tcp',
  ]);
  return tarball;
}
