// "Before vs after": two Sightline builds of the same run (run.sh --before REF) compared per
// workload, plus the spread between reps of every proxy, so that "within noise" can be judged from
// the run itself. Every ratio is computed per rep (both builds ran in the same rep window, the order
// rotating) and then summarised as min / median / max over the reps.
import { table, median, fmtBytes } from './util.mjs';

// Per workload: the figures compared, the first two being the key ones (raw rate, per proxy
// CPU-second; for idle memory RSS and PSS per connection). lower: smaller is better.
export const FIGURES = {
  throughput: [
    { key: 'gbps', label: 'Gbit/s' },
    { key: 'gbytes_per_cpu_s', label: 'GB per proxy CPU-s' },
  ],
  tls_conn_rate: [
    { key: 'conn_per_s', label: 'conn/s' },
    { key: 'conns_per_cpu_s', label: 'conn per proxy CPU-s' },
  ],
  http_rps: [
    { key: 'rps', label: 'req/s' },
    { key: 'req_per_cpu_s', label: 'req per proxy CPU-s' },
  ],
  ws_echo_latency: [
    { key: 'msgs_per_s', label: 'msgs/s' },
    { key: 'msgs_per_cpu_s', label: 'msgs per proxy CPU-s' },
    { key: 'rtt_p99_ms', label: 'RTT p99 ms', lower: true },
  ],
  idle_memory: [
    { key: 'rss_per_conn', label: 'RSS per conn', lower: true, bytes: true },
    { key: 'pss_per_conn', label: 'PSS per conn', lower: true, bytes: true },
    { key: 'rss_base_mb', label: 'RSS at start MB', lower: true },
  ],
};
const OTHERS = ['node', 'haproxy', 'nginx'];

const fmtNum = (v, f) => {
  if (v == null) return '-';
  if (f?.bytes) return `${fmtBytes(v)}B`;
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : a >= 10 ? v.toFixed(2) : v.toFixed(3);
};
const x2 = (v) => (v == null ? '-' : v.toFixed(2));
function stats(vs) {
  const v = vs.filter((n) => typeof n === 'number' && Number.isFinite(n));
  if (!v.length) return null;
  return { n: v.length, min: Math.min(...v), med: median(v), max: Math.max(...v) };
}
const range = (s) => (s == null ? '-' : s.n > 1 ? `${x2(s.min)}..${x2(s.max)}` : '(1 rep)');

// The row of one proxy in one workload (the first mode that ran without error).
function rowOf(w, name) {
  return (w?.rows || []).find((r) => r.proxy === name && !r.error) || null;
}
const okRuns = (row, key) =>
  (row?.runs || []).filter((r) => !r.error && typeof r[key] === 'number' && Number.isFinite(r[key]));

// a's figure / b's figure, per rep in which both have it.
export function perRepRatios(a, b, key) {
  const byRep = new Map(
    okRuns(b, key)
      .filter((r) => r[key] !== 0)
      .map((r) => [r.rep, r[key]]),
  );
  return okRuns(a, key)
    .filter((r) => byRep.has(r.rep))
    .map((r) => r[key] / byRep.get(r.rep));
}

// The comparison as data (the JSON consumers and the markdown below use it).
export function beforeAfter(res) {
  const b = res.settings?.before;
  if (!b) return null;
  const after = b.after || res.settings?.sightline?.name || 'sightline';
  const out = { before: b.name, after, control: b.control || null, workloads: {} };
  for (const [wl, w] of Object.entries(res.workloads || {})) {
    const figs = FIGURES[wl];
    if (!figs) continue;
    const A = rowOf(w, after),
      B = rowOf(w, b.name),
      C = b.control ? rowOf(w, b.control) : null;
    const entry = { figures: [], vs: [] };
    for (const f of figs) {
      entry.figures.push({
        ...f,
        before: B?.[f.key] ?? null,
        after: A?.[f.key] ?? null,
        ratio: stats(perRepRatios(A, B, f.key)),
        // The A/A of this run: the control copy of the before build against the before build.
        control: C ? stats(perRepRatios(C, B, f.key)) : null,
        spread_before: stats(okRuns(B, f.key).map((r) => r[f.key])),
        spread_after: stats(okRuns(A, f.key).map((r) => r[f.key])),
      });
    }
    for (const [role, row] of [
      ['after', A],
      ['before', B],
    ]) {
      const v = { role, name: role === 'after' ? after : b.name };
      for (const o of OTHERS) {
        const O = rowOf(w, o);
        if (!O) continue;
        v[o] = figs.slice(0, 2).map((f) => stats(perRepRatios(row, O, f.key)));
      }
      entry.vs.push(v);
    }
    out.workloads[wl] = entry;
  }
  return out;
}

// Min / median / max over the reps of every proxy's key figures, per workload (the noise).
function spreadTable(res) {
  const rows = [];
  for (const [wl, w] of Object.entries(res.workloads || {})) {
    const figs = FIGURES[wl];
    if (!figs) continue;
    for (const row of w.rows || []) {
      if (row.error) continue;
      for (const f of figs.slice(0, 2)) {
        const s = stats(okRuns(row, f.key).map((r) => r[f.key]));
        if (!s) continue;
        rows.push({ workload: wl, proxy: row.label, figure: f.label, s, f });
      }
    }
  }
  if (!rows.length) return null;
  return table(rows, [
    { label: 'workload', key: 'workload' },
    { label: 'proxy', key: 'proxy', left: true },
    { label: 'figure', key: 'figure', left: true },
    { label: 'reps', get: (r) => r.s.n },
    { label: 'min', get: (r) => fmtNum(r.s.min, r.f) },
    { label: 'median', get: (r) => fmtNum(r.s.med, r.f) },
    { label: 'max', get: (r) => fmtNum(r.s.max, r.f) },
    { label: 'max/min', get: (r) => (r.s.min > 0 ? `${(r.s.max / r.s.min).toFixed(2)}x` : '-') },
  ]);
}

export function beforeAfterMarkdown(res) {
  const ba = beforeAfter(res);
  const out = [];
  if (ba) {
    const s = res.settings;
    out.push(`## Before vs after: ${ba.after} (after) / ${ba.before} (before)`, '');
    if (s.sightline?.build) out.push(`- after (\`${ba.after}\`): ${s.sightline.build}`);
    if (s.before?.build) out.push(`- before (\`${ba.before}\`): ${s.before.build}`);
    if (ba.control)
      out.push(
        `- A/A control (\`${ba.control}\`): a second copy of the before build, run like the others; control/before shows what "no change" looks like in this run.`,
      );
    out.push(
      `- both: started ${s.sightline?.via === 'cli' ? 'as the CLI (`node bin/sightline.js start -c FILE`)' : 'as the library in the adapter'}, telemetry ${s.sightline?.telemetry}, node args "${s.sightline?.node_args ?? ''}", the same generated configuration, reps interleaved with the other proxies.`,
      '',
    );
    out.push(
      'after/before is computed per rep (both builds ran in the same rep window), then the median and the min..max over the reps. Above 1 is better for rates, below 1 for memory and latency. Judge it against the spread of the same figure between reps (next table) and against an A/A run (the same build on both sides).',
      '',
    );
    const rows = [];
    for (const [wl, e] of Object.entries(ba.workloads)) for (const f of e.figures) rows.push({ wl, ...f });
    out.push(
      table(rows, [
        { label: 'workload', key: 'wl' },
        { label: 'figure', key: 'label', left: true },
        { label: 'before (median)', get: (r) => fmtNum(r.before, r) },
        { label: 'after (median)', get: (r) => fmtNum(r.after, r) },
        { label: 'after/before (median of reps)', get: (r) => (r.ratio ? `**${x2(r.ratio.med)}**` : '-') },
        { label: 'min..max', get: (r) => range(r.ratio) },
        ...(ba.control
          ? [
              {
                label: 'A/A: control/before (median, min..max)',
                get: (r) => (r.control ? `${x2(r.control.med)} (${range(r.control)})` : '-'),
              },
            ]
          : []),
        {
          label: 'before reps max/min',
          get: (r) => (r.spread_before?.min > 0 ? `${(r.spread_before.max / r.spread_before.min).toFixed(2)}x` : '-'),
        },
        {
          label: 'after reps max/min',
          get: (r) => (r.spread_after?.min > 0 ? `${(r.spread_after.max / r.spread_after.min).toFixed(2)}x` : '-'),
        },
      ]),
      '',
    );
    const vsRows = [];
    for (const [wl, e] of Object.entries(ba.workloads))
      for (const v of e.vs) vsRows.push({ wl, ...v, figs: e.figures });
    const cell = (v, o, i) => (v[o]?.[i] ? `${x2(v[o][i].med)} (${range(v[o][i])})` : '-');
    const cols = [
      { label: 'workload', key: 'wl' },
      { label: 'build', get: (r) => `${r.role}: ${r.name}`, left: true },
    ];
    for (const o of OTHERS) {
      if (!vsRows.some((r) => r[o])) continue;
      cols.push({ label: `/ ${o}: rate`, get: (r) => cell(r, o, 0) });
      cols.push({ label: `/ ${o}: per CPU-s (idle: PSS)`, get: (r) => cell(r, o, 1) });
    }
    out.push(
      'Each build relative to the other proxies of the same run (median of per-rep ratios, min..max); for idle_memory the two columns are RSS and PSS per connection (lower is better).',
      '',
    );
    out.push(table(vsRows, cols), '');
  }
  const spread = spreadTable(res);
  if (spread)
    out.push(
      '## Spread between reps (noise)',
      '',
      "Every proxy's key figures over the reps of this run: min, median, max.",
      '',
      spread,
      '',
    );
  return out.join('\n');
}
