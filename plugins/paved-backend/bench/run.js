#!/usr/bin/env node
/* eslint-disable no-restricted-syntax */
// Runs bench/bench.ts (or bench/<name>.ts with `--script <name>`) with
// Backstage's TypeScript transform; other arguments pass through.
const { spawnSync } = require('child_process');
const path = require('path');

const args = process.argv.slice(2);
const at = args.indexOf('--script');
const script = at >= 0 ? args.splice(at, 2)[1] : 'bench';

const result = spawnSync(
  process.execPath,
  [
    '--require',
    require.resolve('@backstage/cli/config/nodeTransform.cjs'),
    path.join(__dirname, `${script}.ts`),
    ...args,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
