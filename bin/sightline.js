#!/usr/bin/env node
// Entry point of the `sightline` command; the code lives in dist/ (npm run build).
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`sightline: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
