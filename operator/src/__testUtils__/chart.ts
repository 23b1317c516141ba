/**
 * The operator's Helm chart (operator/chart) as tests see it: rendered by a
 * real Helm (built from its Go module by @paved/test-cluster's ensureHelm)
 * and parsed into objects.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { ensureHelm } from '@paved/test-cluster';

const run = promisify(execFile);

export const CHART_DIR = path.resolve(__dirname, '..', '..', 'chart');
/** The CRDs' one source; the chart's crds/ is a symlink to it. */
export const CRD_DIR = path.resolve(
  __dirname,
  '..',
  '..',
  '..',
  'plugins',
  'paved-common',
  'crds',
);

/** Runs helm; rejects with its stderr (without its symlink notices). */
export async function helm(...args: string[]): Promise<string> {
  const binary = await ensureHelm();
  try {
    const { stdout } = await run(binary, args, { maxBuffer: 16 << 20 });
    return stdout;
  } catch (error: any) {
    const stderr = String(error.stderr ?? '')
      .split('\n')
      .filter(line => !line.includes('found symbolic link in path'))
      .join('\n')
      .trim();
    throw new Error(`helm ${args[0]} failed: ${stderr || error.message}`);
  }
}

/** A Kubernetes object as parsed from YAML. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: any };
  [key: string]: any;
};

export interface RenderOptions {
  release?: string;
  /** `helm template -n`; default paved-system. */
  namespace?: string;
  values?: object;
  includeCrds?: boolean;
}

export interface Rendering {
  yaml: string;
  objects: Manifest[];
  /** The one object of `kind` (and `name`); throws when there is not exactly one. */
  get(kind: string, name?: string): Manifest;
  all(kind: string): Manifest[];
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map(doc => {
      if (doc.errors.length) throw doc.errors[0];
      return doc.toJS();
    })
    .filter(Boolean);
}

/** `helm template` of the chart, with `values` passed as a values file. */
export async function renderChart(
  options: RenderOptions = {},
): Promise<Rendering> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paved-chart-'));
  try {
    const valuesFile = path.join(dir, 'values.yaml');
    fs.writeFileSync(valuesFile, stringify(options.values ?? {}));
    const yaml = await helm(
      'template',
      options.release ?? 'paved-operator',
      CHART_DIR,
      '--namespace',
      options.namespace ?? 'paved-system',
      '--values',
      valuesFile,
      ...(options.includeCrds ? ['--include-crds'] : []),
    );
    return rendering(yaml);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function rendering(yaml: string): Rendering {
  const objects = parseManifests(yaml);
  const all = (kind: string) => objects.filter(o => o.kind === kind);
  return {
    yaml,
    objects,
    all,
    get(kind, name) {
      const found = all(kind).filter(o => !name || o.metadata.name === name);
      if (found.length !== 1) {
        throw new Error(
          `expected one ${kind}${name ? ` ${name}` : ''}, rendered ${
            found.length
          }: ${objects.map(o => `${o.kind}/${o.metadata.name}`).join(', ')}`,
        );
      }
      return found[0];
    },
  };
}

/** The rendering in a temporary file, for `kubectl apply -f`. */
export function writeManifests(yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paved-rendered-'));
  const file = path.join(dir, 'paved-operator.yaml');
  fs.writeFileSync(file, yaml);
  return file;
}
