#!/usr/bin/env node
// Merge several proxy-bench results files (one per workload, from `./bench.sh <workload> --out F`)
// into one results file of the same schema, and render it as markdown with the harness's own
// renderer (bench/lib/report.mjs, so the summary table covers every workload).
//
//   node merge-results.mjs --out OUT.json [--note TEXT] IN1.json [IN2.json ...]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderMarkdown } from './lib/report.mjs';
import { beforeAfter, beforeAfterMarkdown } from './lib/before-after.mjs';

const { values: a, positionals: inputs } = parseArgs({
  allowPositionals: true,
  options: { 'bench-dir': { type: 'string' }, out: { type: 'string' }, note: { type: 'string' } },
});
// --bench-dir (the harness copy of earlier versions) is accepted and ignored.
if (!a.out || inputs.length === 0) {
  process.stderr.write('usage: node merge-results.mjs --out OUT.json [--note TEXT] IN.json...\n');
  process.exit(2);
}

const parts = inputs.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
const first = parts[0];
const last = parts[parts.length - 1];
const merged = {
  ...first,
  created: first.created,
  command: parts.map((p) => p.command).join(' && '),
  workloads: {},
  calibration: {
    start: first.calibration?.start,
    end: last.calibration?.end,
    per_part: parts.map((p) => p.calibration),
  },
  elapsed_s: Math.round(parts.reduce((s, p) => s + (p.elapsed_s ?? 0), 0) * 10) / 10,
  started_pids: parts.flatMap((p) => p.started_pids ?? []),
  merged_from: inputs.map((f) => path.basename(f)),
};
if (a.note) merged.note = a.note;
for (const p of parts) Object.assign(merged.workloads, p.workloads);
if (merged.settings?.before) merged.before_after = beforeAfter(merged);

const out = path.resolve(a.out);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(merged, null, 2) + '\n');
let md = renderMarkdown(merged);
if (merged.note) md = md.replace(/\n/, `\n\nBuild: ${merged.note}\n`);
fs.writeFileSync(out.replace(/\.json$/, '') + '.md', md);
// The before/after comparison and the spread between reps on the console too (and so in the .log).
if (merged.settings?.before) process.stderr.write(`\n${beforeAfterMarkdown(merged)}\n`);
process.stderr.write(`merged ${inputs.length} file(s) -> ${out} (+ .md)\n`);
