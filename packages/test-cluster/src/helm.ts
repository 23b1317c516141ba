/**
 * Helm (helm.sh/helm/v4) built from its Go module, for tests that lint and
 * render charts (the operator's, operator/chart).
 */
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT, runCommand } from './paths';

let ensured: Promise<string> | undefined;

/**
 * The path of a `helm` binary: `$PAVED_HELM` when set, otherwise what
 * scripts/build-helm.sh builds once (a few minutes cold) into the cache,
 * keyed by HELM_VERSION in go/data-plane/versions.env, and then reuses.
 */
export function ensureHelm(
  log: (line: string) => void = () => {},
): Promise<string> {
  // Once per process: the script's answer does not change while we run.
  ensured ??= (async () => {
    const fromEnv = process.env.PAVED_HELM;
    const script = path.join(PACKAGE_ROOT, 'scripts', 'build-helm.sh');
    const helm =
      fromEnv ||
      path.join(
        (await runCommand('bash', [script], { log }))
          .trim()
          .split('\n')
          .pop() ?? '',
        'bin',
        'helm',
      );
    try {
      fs.accessSync(helm, fs.constants.X_OK);
    } catch {
      throw new Error(
        fromEnv
          ? `PAVED_HELM=${fromEnv} is not an executable; unset it to build Helm with ${script}`
          : `${script} did not produce ${helm}`,
      );
    }
    return helm;
  })().catch(error => {
    ensured = undefined;
    throw error;
  });
  return ensured;
}
