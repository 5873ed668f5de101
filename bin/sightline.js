#!/usr/bin/env node
// Entry point of the `sightline` command; the code lives in dist/ (npm run build).
// No V8 flags are needed: the proxy paces its own garbage collection (src/core/buffer-gc.ts), so
// `node bin/sightline.js`, this shebang and an embedding application get the same throughput.
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
