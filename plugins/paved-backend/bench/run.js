#!/usr/bin/env node
/* eslint-disable no-restricted-syntax */
// Runs bench/bench.ts with Backstage's TypeScript transform; arguments pass through.
const { spawnSync } = require('child_process');
const path = require('path');

const result = spawnSync(
  process.execPath,
  [
    '--require',
    require.resolve('@backstage/cli/config/nodeTransform.cjs'),
    path.join(__dirname, 'bench.ts'),
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
