#!/usr/bin/env node
/*
 * `yarn cluster up`: runs src/cli.ts. The Backstage CLI's Node transform
 * (the same SWC hook `backstage-cli package start` uses) compiles the
 * TypeScript sources on the fly, so no build step and no global tool is
 * needed.
 */
require('@backstage/cli/config/nodeTransform.cjs');
require('../src/cli')
  .main(process.argv.slice(2))
  .catch(error => {
    console.error(error);
    process.exit(1);
  });
