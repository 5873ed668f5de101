#!/usr/bin/env node
// Proxy under test for bench/scaling.sh: Sightline through the real CLI, `sightline start -c F
// --workers N`, with the configuration the harness adapter builds (sightline-bench.mjs
// --print-config) for the harness's {routes_json}. The CLI runs in this process (the harness
// measures its process tree: the primary and its workers); SIGTERM drains it and exits 0.
//
//   node bench/scaling-put.mjs --routes-json FILE --workers N|auto
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: { 'routes-json': { type: 'string' }, workers: { type: 'string', default: '1' } },
});
if (a['routes-json'] === undefined) {
  process.stderr.write('usage: node scaling-put.mjs --routes-json FILE --workers N|auto\n');
  process.exit(2);
}
const here = path.dirname(new URL(import.meta.url).pathname);
const config = execFileSync(
  process.execPath,
  [path.join(here, 'sightline-bench.mjs'), '--routes-json', a['routes-json'], '--telemetry', 'off', '--print-config'],
  { encoding: 'utf8' },
);
const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-scaling-')), 'sightline.json');
fs.writeFileSync(file, config);
const { main } = await import(new URL('../dist/cli/main.js', import.meta.url).href);
const code = await main(['node', 'sightline', 'start', '-c', file, '--workers', a.workers]);
fs.rmSync(path.dirname(file), { recursive: true, force: true });
process.exit(code);
