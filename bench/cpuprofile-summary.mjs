#!/usr/bin/env node
// Summarise V8 .cpuprofile files (node --cpu-prof): self time by component (Sightline's own
// modules by directory, each telemetry dependency, node internals, GC, idle/program) and the top
// functions by self and by inclusive time. Built for telemetry-cost.sh PROFILE=1 runs, to compare
// a telemetry-off and a telemetry-on profile of the same workload.
//
//   node bench/cpuprofile-summary.mjs [--top 25] [--json] [--group NAME=REGEX ...] A.cpuprofile [B ...]
//
// --group (repeatable) attributes every busy sample to the first group (in the order given) whose
// REGEX matches the "url functionName" of any frame on its stack, matched from the outermost frame
// inwards; samples matching none are "other". E.g. --group 'logs=logger\.js|pino|sonic-boom'.
//
// Several files are summed (e.g. every profile of one variant). Percentages are of the busy time
// (total minus (idle)), so they read as "share of the proxy's CPU".
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: a, positionals: files } = parseArgs({
  allowPositionals: true,
  options: {
    group: { type: 'string', multiple: true, default: [] },
    top: { type: 'string', default: '25' },
    json: { type: 'boolean', default: false },
    filter: { type: 'string' },
  },
});
if (!files.length) {
  process.stderr.write('usage: node cpuprofile-summary.mjs [--top N] [--json] [--filter RE] FILE.cpuprofile...\n');
  process.exit(2);
}
const top = Number(a.top);
const filter = a.filter ? new RegExp(a.filter) : null;
const groups = a.group.map((g) => {
  const i = g.indexOf('=');
  if (i <= 0) throw new Error(`--group NAME=REGEX, got ${g}`);
  return { name: g.slice(0, i), re: new RegExp(g.slice(i + 1)) };
});
const groupUs = new Map(groups.map((g) => [g.name, 0]));
groupUs.set('other', 0);

/** Which component a call frame belongs to. */
function component(cf) {
  const u = cf.url || '';
  if (!u) {
    if (cf.functionName === '(garbage collector)') return 'GC';
    if (cf.functionName === '(idle)') return '(idle)';
    if (cf.functionName === '(program)') return '(program: native, not JS)';
    if (cf.functionName === '(root)') return '(root)';
    return '(native/builtin)';
  }
  const nm = u.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (nm) return nm[1];
  const d = u.match(/\/dist\/(.+)\/[^/]+\.js$/);
  if (d) return `sightline dist/${d[1]}/`;
  if (/\/dist\/[^/]+\.js$/.test(u)) return 'sightline dist/';
  if (u.startsWith('node:')) return `node:${u.slice(5).split('/')[0]}`;
  return path.basename(u);
}

const comp = new Map();
const fnSelf = new Map();
const fnIncl = new Map();
let total = 0;
let idle = 0;

for (const f of files) {
  const p = JSON.parse(fs.readFileSync(f, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // self time per node from samples x timeDeltas
  const t = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t.set(p.samples[i], (t.get(p.samples[i]) ?? 0) + dt);
  }
  for (const [id, us] of t) {
    const n = byId.get(id);
    const cf = n.callFrame;
    total += us;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const c = component(cf);
    comp.set(c, (comp.get(c) ?? 0) + us);
    const key = `${cf.functionName || '(anonymous)'} ${c} ${cf.url ? path.basename(cf.url) : ''}:${cf.lineNumber + 1}`;
    fnSelf.set(key, (fnSelf.get(key) ?? 0) + us);
    // inclusive: add to every distinct function on the stack
    const seen = new Set();
    if (groups.length) {
      const stack = [];
      for (let c = id; c !== undefined; c = parent.get(c)) stack.push(byId.get(c).callFrame);
      stack.reverse(); // outermost first
      let hit = 'other';
      for (const g of groups) {
        if (stack.some((f) => g.re.test(`${f.url} ${f.functionName}`))) {
          hit = g.name;
          break;
        }
      }
      groupUs.set(hit, groupUs.get(hit) + us);
    }
    let cur = id;
    while (cur !== undefined) {
      const cn = byId.get(cur).callFrame;
      if (cn.functionName !== '(root)') {
        const k = `${cn.functionName || '(anonymous)'} ${component(cn)} ${cn.url ? path.basename(cn.url) : ''}:${cn.lineNumber + 1}`;
        if (!seen.has(k)) {
          seen.add(k);
          fnIncl.set(k, (fnIncl.get(k) ?? 0) + us);
        }
      }
      cur = parent.get(cur);
    }
  }
}
const busy = total - idle;
const pct = (us) => Math.round((1000 * us) / busy) / 10;
const sorted = (m) => [...m].sort((x, y) => y[1] - x[1]);
const out = {
  files: files.map((f) => path.basename(f)),
  total_ms: Math.round(total / 1000),
  busy_ms: Math.round(busy / 1000),
  groups: groups.length
    ? [...groupUs].map(([k, v]) => ({ group: k, ms: Math.round(v / 1000), pct: pct(v) }))
    : undefined,
  components: sorted(comp).map(([k, v]) => ({ component: k, ms: Math.round(v / 1000), pct: pct(v) })),
  top_self: sorted(fnSelf)
    .filter(([k]) => !filter || filter.test(k))
    .slice(0, top)
    .map(([k, v]) => ({ fn: k, ms: Math.round(v / 1000), pct: pct(v) })),
  top_inclusive: sorted(fnIncl)
    .filter(([k]) => !filter || filter.test(k))
    .slice(0, top)
    .map(([k, v]) => ({ fn: k, ms: Math.round(v / 1000), pct: pct(v) })),
};
if (a.json) {
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
} else {
  const w = (s) => process.stdout.write(s + '\n');
  w(`${out.files.length} profile(s); total ${out.total_ms} ms, busy ${out.busy_ms} ms (percentages of busy)`);
  if (out.groups) {
    w('\nbusy time by group (first matching group on the stack):');
    for (const g of out.groups) w(`  ${String(g.pct).padStart(5)} %  ${String(g.ms).padStart(7)} ms  ${g.group}`);
  }
  w('\nself time by component:');
  for (const c of out.components.slice(0, top))
    w(`  ${String(c.pct).padStart(5)} %  ${String(c.ms).padStart(7)} ms  ${c.component}`);
  w(`\ntop ${top} functions by self time${filter ? ` matching ${filter}` : ''}:`);
  for (const c of out.top_self) w(`  ${String(c.pct).padStart(5)} %  ${String(c.ms).padStart(7)} ms  ${c.fn}`);
  w(`\ntop ${top} functions by inclusive time${filter ? ` matching ${filter}` : ''}:`);
  for (const c of out.top_inclusive) w(`  ${String(c.pct).padStart(5)} %  ${String(c.ms).padStart(7)} ms  ${c.fn}`);
}
