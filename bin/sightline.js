#!/usr/bin/env -S node --initial-old-space-size=64
// Entry point of the `sightline` command; the code lives in dist/ (npm run build).
// The shebang's --initial-old-space-size=64 is a throughput setting, not a memory cap: with a
// small initial old space V8 re-marks the heap on every 64 MB of socket buffers, which halves
// bulk throughput (bench/README.md). Run as `node --initial-old-space-size=64 bin/sightline.js`
// when invoking node directly.
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
