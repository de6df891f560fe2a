#!/usr/bin/env node
// The evalfleet CLI. Built code lives in dist/ (run `npm run build` once after cloning).
import { main } from '../dist/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`evalfleet: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
