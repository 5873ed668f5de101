// Render a results JSON (from bench/run.sh) as markdown tables.
import { table, fmtBytes, median } from './util.mjs';
import { beforeAfterMarkdown } from './before-after.mjs';
import throughput from './workloads/throughput.mjs';
import tls_conn_rate from './workloads/tls_conn_rate.mjs';
import http_rps from './workloads/http_rps.mjs';
import idle_memory from './workloads/idle_memory.mjs';
import ws_echo_latency from './workloads/ws_echo_latency.mjs';

const WL = { throughput, tls_conn_rate, http_rps, idle_memory, ws_echo_latency };

// One row per proxy across all workloads (primary metric, ratio to direct).
export function summaryTable(res) {
  const W = res.workloads || {};
  const names = [];
  for (const w of Object.values(W)) for (const r of w.rows) if (!names.includes(r.proxy)) names.push(r.proxy);
  const pick = (wl, name) =>
    (W[wl]?.rows || [])
      .filter((r) => r.proxy === name)
      .sort(
        (a, b) => ['direct', 'sni', 'http', 'l4'].indexOf(a.mode) - ['direct', 'sni', 'http', 'l4'].indexOf(b.mode),
      )[0];
  const x = (v) => (v == null ? '' : ` (${v.toFixed(2)}x)`);
  const rows = names.map((n) => {
    const t = pick('throughput', n),
      c = pick('tls_conn_rate', n),
      h = pick('http_rps', n),
      i = pick('idle_memory', n),
      w = pick('ws_echo_latency', n);
    return {
      proxy: n,
      thr: t?.gbps != null ? `${t.gbps.toFixed(1)}${x(t.gbps_vs_direct)}` : null,
      thrcpu: t?.gbytes_per_cpu_s ?? null,
      tls:
        c?.conn_per_s != null
          ? `${c.conn_per_s.toFixed(0)}${x(c.conn_per_s_vs_direct)}${c.mode === 'l4' ? ' [l4]' : ''}`
          : null,
      http: h?.rps != null ? `${h.rps.toFixed(0)}${x(h.rps_vs_direct)}` : null,
      idle: i?.pss_per_conn != null ? `${fmtBytes(i.pss_per_conn)}B` : null,
      idleres: i?.residual_pct ?? null,
      ws: w?.msgs_per_s != null ? `${w.msgs_per_s.toFixed(0)}${x(w.msgs_per_s_vs_direct)}` : null,
      wsp99: w?.rtt_p99_ms ?? null,
    };
  });
  return table(rows, [
    { label: 'proxy', key: 'proxy' },
    { label: 'iperf3 Gbit/s', key: 'thr' },
    { label: 'GB per proxy CPU-s', key: 'thrcpu', fmt: (v) => v.toFixed(2) },
    { label: 'TLS conn/s (SNI)', key: 'tls' },
    { label: 'HTTP req/s', key: 'http' },
    { label: 'idle PSS/conn', key: 'idle' },
    { label: 'idle residual %', key: 'idleres', fmt: (v) => v.toFixed(0) },
    { label: 'WS msgs/s', key: 'ws' },
    { label: 'WS RTT p99 ms', key: 'wsp99', fmt: (v) => v.toFixed(2) },
  ]);
}

// Sightline against every other proxy of the same run: per workload, the ratio of its primary
// figure and of its per-proxy-CPU-second figure to the other proxy's (for idle memory: PSS per
// connection, where lower is better). Primary ratios are medians of per-rep ratios (both ran in the
// same rep window); efficiency ratios are ratios of the medians (CPU-s is summed over the run).
export function sightlineRatios(res, name = res.settings?.sightline?.name || 'sightline') {
  const rows = [];
  for (const [wl, w] of Object.entries(res.workloads || {})) {
    const prim = WL[wl]?.primary;
    const eff = EFF[wl];
    const pick = (proxy) => (w.rows || []).find((r) => r.proxy === proxy && !r.error);
    const me = pick(name);
    if (!me) continue;
    for (const other of w.rows) {
      if (other.proxy === name || other.error) continue;
      const row = { workload: wl, vs: other.label };
      if (prim) {
        const byRep = new Map((other.runs || []).filter((x) => !x.error && x[prim] > 0).map((x) => [x.rep, x[prim]]));
        const ratios = (me.runs || [])
          .filter((x) => !x.error && x[prim] != null && byRep.has(x.rep))
          .map((x) => x[prim] / byRep.get(x.rep));
        row.primary = prim;
        row.ratio = ratios.length ? median(ratios) : null;
      }
      if (eff && me[eff] != null && other[eff] > 0) row.eff_ratio = me[eff] / other[eff];
      row.eff = eff;
      if (row.ratio != null || row.eff_ratio != null) rows.push(row);
    }
  }
  return rows;
}

function ratioTable(res) {
  const rows = sightlineRatios(res);
  if (!rows.length) return null;
  const x = (v) => (v == null ? null : `${v.toFixed(2)}x`);
  return table(rows, [
    { label: 'workload', key: 'workload' },
    { label: 'vs', key: 'vs', left: true },
    { label: 'primary figure', get: (r) => r.primary ?? null, left: true },
    { label: 'ratio (median of reps)', get: (r) => x(r.ratio) },
    { label: 'per-CPU figure', get: (r) => r.eff, left: true },
    { label: 'ratio', get: (r) => x(r.eff_ratio) },
  ]);
}

export function renderMarkdown(res, { commands = true } = {}) {
  const out = [];
  out.push(`# Benchmark results (${res.created})`, '');
  out.push(
    `Command: \`${res.command}\` — total ${res.elapsed_s ?? '?'} s. Medians of ${res.settings?.reps} interleaved reps; proxy workers/threads: ${res.settings?.proxy_workers}; wrk threads: ${res.settings?.wrk_threads}; open-files limit: ${res.settings?.nofile}.`,
    '',
  );
  if (res.calibration)
    out.push(
      `Machine speed probe (single-core sha256 MB/s, 100 ms samples): start min/median/max ${res.calibration.start?.min}/${res.calibration.start?.median}/${res.calibration.start?.max}, end ${res.calibration.end?.min}/${res.calibration.end?.median}/${res.calibration.end?.max}.`,
      '',
    );
  if (res.settings?.put)
    out.push(`Proxy under test: **${res.settings.put.name}** (${res.settings.put.cmd.join('; ')})`, '');
  if (Object.keys(res.workloads || {}).length > 1)
    out.push('## Summary (medians; ratio to direct in parentheses)', '', summaryTable(res), '');
  const ratios = ratioTable(res);
  if (ratios)
    out.push(
      `## ${res.settings?.sightline?.name || 'sightline'} relative to each proxy (same run; above 1x is better, except PSS per connection)`,
      '',
      ratios,
      '',
    );
  const ba = beforeAfterMarkdown(res);
  if (ba) out.push(ba);
  for (const [name, w] of Object.entries(res.workloads || {})) {
    const def = WL[name];
    out.push(`## ${name}`, '');
    if (w.meta?.params)
      out.push(
        `Params: ${Object.entries(w.meta.params)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`,
        '',
      );
    out.push(table(w.rows, def ? def.columns : [{ label: 'proxy', key: 'label' }]), '');
    const errs = w.rows.filter((r) => r.error || r.errors);
    for (const r of errs) out.push(`- ${r.label}: ${r.error || r.errors.join('; ')}`);
    if (errs.length) out.push('');
    if (commands) {
      out.push('Commands:', '', '```');
      if (w.meta?.backend) out.push(`# backend\n${w.meta.backend}`);
      if (w.meta?.loadgen) out.push(`# load generator\n${w.meta.loadgen}`);
      for (const i of w.instances || []) out.push(`# ${i.label}\n${i.cmd}`);
      out.push('```', '');
    }
  }
  if (res.versions) {
    out.push('## Versions', '', '| component | version |', '|---|---|');
    for (const [k, v] of Object.entries(res.versions)) out.push(`| ${k} | ${String(v).replace(/\|/g, '/')} |`);
    out.push('');
  }
  return out.join('\n');
}

// Side-by-side view of several results files: per workload and proxy, the
// ratio to direct (the only number that is roughly comparable across runs on
// a noisy machine) and the per-proxy-CPU-second efficiency.
const EFF = {
  throughput: 'gbytes_per_cpu_s',
  tls_conn_rate: 'conns_per_cpu_s',
  http_rps: 'req_per_cpu_s',
  ws_echo_latency: 'msgs_per_cpu_s',
  idle_memory: 'pss_per_conn',
};
export function compareMarkdown(files) {
  const out = [];
  const names = files.map((f) => f.name);
  const wls = [...new Set(files.flatMap((f) => Object.keys(f.json.workloads || {})))];
  for (const wl of wls) {
    const def = WL[wl];
    const prim = def?.primary;
    const eff = EFF[wl];
    const labels = [...new Set(files.flatMap((f) => (f.json.workloads[wl]?.rows || []).map((r) => r.label)))];
    const rows = labels.map((label) => {
      const row = { label };
      files.forEach((f, i) => {
        const r = (f.json.workloads[wl]?.rows || []).find((x) => x.label === label);
        row['p' + i] = prim ? r?.[prim + '_vs_direct'] : null;
        row['e' + i] = r?.[eff];
      });
      return row;
    });
    const cols = [{ label: 'proxy', key: 'label' }];
    if (prim)
      files.forEach((f, i) =>
        cols.push({ label: `${prim} vs direct [${names[i]}]`, key: 'p' + i, fmt: (v) => v.toFixed(2) }),
      );
    files.forEach((f, i) =>
      cols.push({ label: `${eff} [${names[i]}]`, key: 'e' + i, fmt: (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(2)) }),
    );
    out.push(`## ${wl}`, '', table(rows, cols), '');
  }
  return out.join('\n');
}
