/**
 * Reads the install guide (plugins/INSTALL.md) into the steps the install
 * test applies. A step is a fenced block preceded by a marker comment:
 *
 *   <!-- install-test: upgrade-backstage -->               the app to the newest Backstage release
 *   <!-- install-test: dependencies packages/backend -->   a `yarn --cwd DIR add PKG…` line
 *   <!-- install-test: insert FILE before "TEXT" -->       code to put before TEXT in FILE
 *   <!-- install-test: remove FILE -->                     code to take out of FILE
 *   <!-- install-test: run -->                             shell lines, run in the app
 *   <!-- install-test: merge FILE -->                      YAML merged into FILE
 *   <!-- install-test: kubectl-apply -->                   manifests applied to the cluster
 *
 * Unmarked blocks are for readers only. A marker without a block right
 * after it, or of a kind not listed here, is an error that names its line.
 */
import fs from 'node:fs';

export type GuideStep =
  | { kind: 'upgrade-backstage' }
  | { kind: 'dependencies'; workspace: string; packages: string[] }
  | { kind: 'insert'; file: string; before: string; code: string }
  | { kind: 'remove'; file: string; code: string }
  | { kind: 'run'; script: string }
  | { kind: 'merge'; file: string; yaml: string }
  | { kind: 'kubectl-apply'; yaml: string };

const MARKER = /^<!-- install-test: (.*?) -->$/;
const FENCE = /^```(\w*)\s*$/;

/** Each marker's words, and the step its block makes. */
const MARKERS: Array<{
  words: RegExp;
  step(args: string[], code: string, where: string): GuideStep;
}> = [
  { words: /^upgrade-backstage$/, step: () => ({ kind: 'upgrade-backstage' }) },
  {
    words: /^dependencies (\S+)$/,
    step: ([workspace], code, where) => {
      const add = code.match(/^yarn --cwd (\S+) add ((?:\S+ ?)+)$/m);
      if (!add || add[1] !== workspace) {
        throw new Error(
          `${where}: expected a line "yarn --cwd ${workspace} add <package>…"`,
        );
      }
      return { kind: 'dependencies', workspace, packages: add[2].split(' ') };
    },
  },
  {
    words: /^insert (\S+) before "(.+)"$/,
    step: ([file, before], code) => ({ kind: 'insert', file, before, code }),
  },
  {
    words: /^remove (\S+)$/,
    step: ([file], code) => ({ kind: 'remove', file, code }),
  },
  { words: /^run$/, step: (_, script) => ({ kind: 'run', script }) },
  {
    words: /^merge (\S+)$/,
    step: ([file], yaml) => ({ kind: 'merge', file, yaml }),
  },
  {
    words: /^kubectl-apply$/,
    step: (_, yaml) => ({ kind: 'kubectl-apply', yaml }),
  },
];

function parseMarker(words: string, code: string, where: string): GuideStep {
  for (const marker of MARKERS) {
    const match = words.match(marker.words);
    if (match) return marker.step(match.slice(1), code, where);
  }
  throw new Error(`${where}: unknown install-test marker "${words}"`);
}

/** The guide's steps, in the order they appear. */
export function parseGuide(text: string, name = 'the guide'): GuideStep[] {
  const lines = text.split('\n');
  const steps: GuideStep[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = lines[i].match(MARKER);
    if (!marker) continue;
    const where = `${name}:${i + 1}`;
    let start = i + 1;
    while (start < lines.length && lines[start].trim() === '') start++;
    if (!FENCE.test(lines[start] ?? '')) {
      throw new Error(`${where}: the marker is not followed by a code block`);
    }
    const end = lines.findIndex((line, j) => j > start && line === '```');
    if (end < 0) throw new Error(`${where}: the code block is not closed`);
    const code = `${lines.slice(start + 1, end).join('\n')}\n`;
    steps.push(parseMarker(marker[1], code, where));
    i = end;
  }
  return steps;
}

export function readGuide(file: string): GuideStep[] {
  return parseGuide(fs.readFileSync(file, 'utf8'), file);
}
