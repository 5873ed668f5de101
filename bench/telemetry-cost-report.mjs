#!/usr/bin/env node
// Summarise a telemetry-cost run (bench/telemetry-cost.sh): telemetry on vs off per workload, from
// the merged harness results, plus evidence that the telemetry really flowed (OTLP sink counts,
// access-log lines, /metrics scrapes). Adds a `telemetry_cost` section to the results JSON and puts
// the summary at the top of its .md (the harness's tables follow).
//
//   node bench/telemetry-cost-report.mjs --results R.json [--sink sink.json] [--scraper scraper.json]
//        [--logs DIR] [--command CMD] [--times "wl=secs ..."] [--warmup N] [--variants off,on,...]
//
// Every variant (proxy sightline-<variant>) is compared with sightline-off, rep by rep.
//
// Re-running it on a results file that already has the section re-renders it (the JSON keeps the
// counts, so --sink/--scraper/--logs are then optional).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    results: { type: 'string' },
    sink: { type: 'string' },
    scraper: { type: 'string' },
    logs: { type: 'string' },
    command: { type: 'string' },
    times: { type: 'string' },
    variants: { type: 'string' },
    threshold: { type: 'string', default: '0.95' },
    warmup: { type: 'string' },
    load: { type: 'string' },
  },
});
if (!a.results) {
  process.stderr.write(
    'usage: node telemetry-cost-report.mjs --results R.json [--sink F] [--scraper F] [--logs DIR]\n',
  );
  process.exit(2);
}
const threshold = Number(a.threshold);
const res = JSON.parse(fs.readFileSync(a.results, 'utf8'));
const prev = res.telemetry_cost ?? {};
// The first `warmup` reps (rep index < warmup) are listed but left out of medians and ratios.
const warmup = Number(a.warmup ?? prev.warmup_reps ?? 0);
const variants = (a.variants ?? prev.variant_list?.join(',') ?? 'off,on').split(',');
const OFF = 'sightline-off';
const partsOf = (v) => (v === 'on' ? ['metrics', 'logs', 'tracing'] : v === 'off' ? [] : v.split('+'));
const describe = (v) => {
  const p = partsOf(v);
  if (!p.length) return 'metrics off, tracing off, logging silent, admin listener off';
  return [
    p.includes('metrics') ? 'metrics on (admin /metrics on an ephemeral port, scraped every second)' : 'metrics off',
    p.includes('tracing')
      ? 'tracing on (OTLP/HTTP to a local sink, every span sampled unless the sampler says otherwise, BatchSpanProcessor defaults)'
      : 'tracing off',
    p.includes('logs') ? 'logging info to a file' : 'logging silent',
  ].join(', ');
};

const WL = {
  throughput: {
    metric: 'gbps',
    unit: 'Gbit/s',
    eff: 'gbytes_per_cpu_s',
    effUnit: 'GB per proxy CPU-s',
    conns: () => 2,
    d: 2,
    de: 2,
  },
  tls_conn_rate: {
    metric: 'conn_per_s',
    unit: 'TLS conn/s',
    eff: 'conns_per_cpu_s',
    effUnit: 'conns per proxy CPU-s',
    conns: (r) => r.requests ?? 0,
    d: 0,
    de: 0,
  },
  http_rps: {
    metric: 'rps',
    unit: 'req/s',
    eff: 'req_per_cpu_s',
    effUnit: 'req per proxy CPU-s',
    conns: () => 50,
    d: 0,
    de: 0,
  },
  ws_echo_latency: {
    metric: 'msgs_per_s',
    unit: 'msgs/s',
    eff: 'msgs_per_cpu_s',
    effUnit: 'msgs per proxy CPU-s',
    conns: () => 50,
    d: 0,
    de: 0,
  },
};

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const stats = (xs) =>
  xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length } : null;
const r3 = (v) => (v == null ? null : Math.round(v * 1000) / 1000);
const fmt = (v, d) =>
  v == null
    ? '–'
    : v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }).replace(/,/g, ' ');
const fmtS = (s, d) => (s ? `${fmt(s.median, d)} (${fmt(s.min, d)}..${fmt(s.max, d)})` : '–');

const workloads = [];
for (const [wl, w] of Object.entries(res.workloads ?? {}))
  for (const variant of variants.slice(1)) {
    const def = WL[wl];
    if (!def) continue;
    const off = w.rows.find((r) => r.proxy === OFF);
    const on = w.rows.find((r) => r.proxy === `sightline-${variant}`);
    if (!off || !on) continue;
    const ok = (r) => r.runs.filter((x) => !x.error && x[def.metric] != null && x.rep >= warmup);
    const offRuns = ok(off);
    const onRuns = ok(on);
    const offByRep = new Map(offRuns.map((x) => [x.rep, x]));
    const offAll = new Map(off.runs.filter((x) => !x.error && x[def.metric] != null).map((x) => [x.rep, x]));
    const pairs = onRuns
      .filter((x) => offByRep.has(x.rep))
      .map((x) => ({ rep: x.rep, on: x, off: offByRep.get(x.rep) }));
    const ratio = pairs.map((p) => p.on[def.metric] / p.off[def.metric]);
    const effRatio = pairs
      .filter((p) => p.on[def.eff] > 0 && p.off[def.eff] > 0)
      .map((p) => p.on[def.eff] / p.off[def.eff]);
    const direct = w.rows.find((r) => r.mode === 'direct');
    const row = {
      workload: wl,
      variant,
      mode: on.mode,
      metric: def.metric,
      unit: def.unit,
      eff_metric: def.eff,
      eff_unit: def.effUnit,
      reps: pairs.length,
      off: stats(offRuns.map((x) => x[def.metric])),
      on: stats(onRuns.map((x) => x[def.metric])),
      ratio: stats(ratio),
      reps_on_below_off: ratio.filter((x) => x < 1).length,
      off_eff: stats(offRuns.filter((x) => x[def.eff] > 0).map((x) => x[def.eff])),
      on_eff: stats(onRuns.filter((x) => x[def.eff] > 0).map((x) => x[def.eff])),
      eff_ratio: stats(effRatio),
      off_cpu_pct: stats(offRuns.filter((x) => x.proxy_cpu_pct != null).map((x) => x.proxy_cpu_pct)),
      on_cpu_pct: stats(onRuns.filter((x) => x.proxy_cpu_pct != null).map((x) => x.proxy_cpu_pct)),
      direct: direct
        ? stats(direct.runs.filter((x) => !x.error && x[def.metric] != null).map((x) => x[def.metric]))
        : null,
      // every rep, warm-up included: the sink and the log files saw all of them
      on_connections: on.runs.filter((x) => !x.error).reduce((s, x) => s + def.conns(x), 0),
      errors: { off: off.runs.length - offRuns.length, on: on.runs.length - onRuns.length },
      per_rep: on.runs
        .filter((x) => !x.error && x.rep < warmup && offAll.has(x.rep))
        .map((x) => ({
          rep: x.rep + 1,
          warmup: true,
          off: offAll.get(x.rep)[def.metric],
          on: x[def.metric],
          ratio: r3(x[def.metric] / offAll.get(x.rep)[def.metric]),
          off_eff: offAll.get(x.rep)[def.eff],
          on_eff: x[def.eff],
        }))
        .concat(
          pairs.map((p) => ({
            rep: p.rep + 1,
            off: p.off[def.metric],
            on: p.on[def.metric],
            ratio: r3(p.on[def.metric] / p.off[def.metric]),
            off_eff: p.off[def.eff],
            on_eff: p.on[def.eff],
          })),
        ),
    };
    row.within_threshold = row.ratio ? row.ratio.median >= threshold : null;
    workloads.push(row);
  }

// ---- evidence that telemetry flowed -----------------------------------------------------------
const readJson = (f) => {
  try {
    return f ? JSON.parse(fs.readFileSync(f, 'utf8')) : null;
  } catch {
    return null;
  }
};
const sink = readJson(a.sink) ?? prev.otlp_sink ?? null;
const scraper = readJson(a.scraper) ?? prev.metrics_scrapes ?? null;
let logs = prev.logs ?? null;
if (a.logs && fs.existsSync(a.logs)) {
  const files = fs.readdirSync(a.logs).filter((n) => n.endsWith('.log'));
  logs = { files: [], lines: 0, bytes: 0, with_trace_id: 0, by_level: {}, access_lines: 0 };
  for (const n of files) {
    const text = fs.readFileSync(path.join(a.logs, n), 'utf8');
    const lines = text.split('\n').filter(Boolean);
    let withTrace = 0;
    let access = 0;
    for (const l of lines) {
      let j;
      try {
        j = JSON.parse(l);
      } catch {
        continue;
      }
      if (j.traceId) withTrace++;
      if (j.event === 'access') access++;
      logs.by_level[j.level] = (logs.by_level[j.level] ?? 0) + 1;
    }
    logs.files.push({ file: n, lines: lines.length, bytes: Buffer.byteLength(text), with_trace_id: withTrace });
    logs.lines += lines.length;
    logs.bytes += Buffer.byteLength(text);
    logs.with_trace_id += withTrace;
    logs.access_lines += access;
  }
  const sample = files
    .map((n) =>
      fs
        .readFileSync(path.join(a.logs, n), 'utf8')
        .split('\n')
        .find((l) => l.includes('traceId')),
    )
    .find(Boolean);
  if (sample) logs.sample_line = sample;
}
// connections through the variants that trace / log (counted by the load generators)
const tracedConnections = workloads
  .filter((w) => partsOf(w.variant).includes('tracing'))
  .reduce((s, w) => s + w.on_connections, 0);
const loggedConnections = workloads
  .filter((w) => partsOf(w.variant).includes('logs'))
  .reduce((s, w) => s + w.on_connections, 0);
let load = prev.load_average_1m ?? null;
if (a.load && fs.existsSync(a.load)) {
  const xs = fs
    .readFileSync(a.load, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => Number(l.split(' ')[1]))
    .filter(Number.isFinite);
  if (xs.length)
    load = { samples: xs.length, min: Math.min(...xs), median: median(xs), max: Math.max(...xs), series: xs };
}
const times = a.times
  ? Object.fromEntries(
      a.times
        .split(/\s+/)
        .filter(Boolean)
        .map((x) => x.split('='))
        .map(([k, v]) => [k, Number(v)]),
    )
  : prev.workload_seconds;

const section = {
  created: prev.created ?? new Date().toISOString(),
  command: a.command ?? prev.command,
  variant_list: variants,
  variants: Object.fromEntries(variants.map((v) => [`sightline-${v}`, describe(v)])),
  threshold,
  warmup_reps: warmup,
  workloads,
  otlp_sink: sink,
  metrics_scrapes: scraper,
  logs,
  traced_connections: tracedConnections,
  logged_connections: loggedConnections,
  workload_seconds: times,
  load_average_1m: load,
};
res.telemetry_cost = section;
fs.writeFileSync(a.results, JSON.stringify(res, null, 2) + '\n');

// ---- markdown --------------------------------------------------------------------------------
const md = [];
md.push(`# Telemetry cost: Sightline ${variants.slice(1).join(', ')} vs telemetry off (${section.created})`, '');
if (res.note) md.push(`Build: ${res.note}`, '');
md.push(
  `Command: \`${section.command}\`${
    times
      ? ` — ${Object.entries(times)
          .map(([k, v]) => `${k} ${v} s`)
          .join(', ')}`
      : ''
  }.`,
  '',
);
for (const [k, v] of Object.entries(section.variants)) md.push(`- **${k}**: ${v}.`);
md.push('');
md.push(
  'All variants are proxies under test of the same harness invocation per workload, so their reps are interleaved (rotating order) against the same backend and load generator. ' +
    `Values: median (min..max) over ${warmup ? `the reps after ${warmup} warm-up rep(s) (listed below, not counted)` : 'reps'}; ratio = median of the per-rep ratios variant/off (the runs of one rep are close in time).`,
  '',
);
md.push(
  '| workload | metric | telemetry off | variant | telemetry on (variant) | ratio on/off (per-rep min..max) | reps on<off | off per CPU-s | on per CPU-s | ratio per CPU-s | within 5 %? |',
);
md.push('|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|');
for (const w of workloads) {
  const def = WL[w.workload];
  md.push(
    `| ${w.workload} (${w.mode}) | ${w.unit} | ${fmtS(w.off, def.d)} | ${w.variant} | ${fmtS(w.on, def.d)} | **${fmt(w.ratio?.median, 3)}** (${fmt(w.ratio?.min, 2)}..${fmt(w.ratio?.max, 2)}) | ${w.reps_on_below_off}/${w.reps} | ${fmtS(w.off_eff, def.de)} | ${fmtS(w.on_eff, def.de)} | ${fmt(w.eff_ratio?.median, 3)} | ${w.within_threshold == null ? '–' : w.within_threshold ? 'yes' : '**no**'} |`,
  );
}
md.push(
  '',
  `Per CPU-s = ${workloads.map((w) => `${w.eff_unit} (${w.workload})`).join(', ')}: the proxy's own CPU per unit of work, the figure least sensitive to the noisy cores.`,
  '',
);
const cpuLine = workloads.map(
  (w) =>
    `${w.workload}: off ${fmt(w.off_cpu_pct?.median, 0)} %, ${w.variant} ${fmt(w.on_cpu_pct?.median, 0)} %${w.direct ? `; direct (no proxy) ${fmtS(w.direct, WL[w.workload].d)} ${w.unit}` : ''}`,
);
md.push(`Proxy CPU (median % of one core): ${cpuLine.join('; ')}.`, '');
if (load)
  md.push(
    `1-minute load average during the run (every 10 s, ${load.samples} samples): min ${load.min}, median ${load.median}, max ${load.max}. The benchmark itself keeps about 2-3 tasks runnable on the 2 vCPUs; more means other work shared the machine.`,
    '',
  );

md.push('### Did the telemetry flow?', '');
if (sink) {
  const spc = tracedConnections > 0 ? sink.spans / tracedConnections : null;
  md.push(
    `- OTLP sink: **${fmt(sink.requests, 0)} export requests, ${fmt(sink.bytes / 1e6, 1)} MB, ${fmt(sink.spans, 0)} spans** (${Object.entries(
      sink.by_content_type ?? {},
    )
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')}; ${sink.bad_requests} bad)` +
      `${spc != null ? `, about ${fmt(spc, 2)} spans per connection through the tracing variant(s) (${fmt(tracedConnections, 0)} connections counted by the load generators, warm-up reps included)` : ''}.`,
  );
}
if (logs) {
  md.push(
    `- Access log files (${fmt(loggedConnections, 0)} connections through the logging variant(s)): **${fmt(logs.lines, 0)} lines** (${fmt(logs.access_lines, 0)} access lines, ${fmt(logs.bytes / 1e6, 1)} MB; ${fmt(logs.with_trace_id, 0)} with a traceId; levels ${Object.entries(
      logs.by_level,
    )
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')}) in ${logs.files.length} file(s): ${logs.files.map((f) => `${f.file} ${f.lines}`).join(', ')}.`,
  );
}
if (scraper) {
  md.push(
    `- /metrics scrapes (every ${scraper.interval_ms} ms): **${scraper.scrapes} ok**, ${scraper.failures} failed (a stopped proxy's last attempt fails), ${fmt(scraper.bytes / 1e6, 2)} MB over ${scraper.targets} admin listener(s); last body ${Object.values(
      scraper.per_target ?? {},
    )
      .map((t) => `${t.series} lines`)
      .join(', ')}.`,
  );
}
md.push('');
md.push('### Per rep', '');
for (const w of workloads) {
  md.push(
    `${w.workload}, ${w.variant} vs off (${w.unit}; ${w.eff_unit}):`,
    '',
    '| rep | off | on | on/off | off per CPU-s | on per CPU-s |',
    '|---:|---:|---:|---:|---:|---:|',
  );
  const def = WL[w.workload];
  for (const p of w.per_rep)
    md.push(
      `| ${p.rep}${p.warmup ? ' (warm-up)' : ''} | ${fmt(p.off, def.d)} | ${fmt(p.on, def.d)} | ${fmt(p.ratio, 3)} | ${fmt(p.off_eff, def.de)} | ${fmt(p.on_eff, def.de)} |`,
    );
  md.push('');
}
const mdPath = a.results.replace(/\.json$/, '') + '.md';
let harnessMd = '';
try {
  harnessMd = fs.readFileSync(mdPath, 'utf8');
} catch {}
const marker = '\n---\n\n<!-- harness tables -->\n';
if (harnessMd.includes(marker)) harnessMd = harnessMd.slice(harnessMd.indexOf(marker) + marker.length);
fs.writeFileSync(mdPath, md.join('\n') + marker + harnessMd);
process.stdout.write(md.join('\n') + '\n');
