#!/usr/bin/env node
/* `yarn workspace @paved/test-cluster bench [starts]`: see src/benchmark.ts. */
require('@backstage/cli/config/nodeTransform.cjs');
require('../src/benchmark')
  .benchmark(Number(process.argv[2] ?? 7))
  .catch(error => {
    console.error(error);
    process.exit(1);
  });
