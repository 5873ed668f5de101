#!/usr/bin/env node
// The scaling table of bench/scaling.sh: for each workload, `--workers 1` against `--workers 2`
// in the same harness run: the rate, the proxy CPU used (process tree: primary + workers), the
// scaling factor, the rate per proxy CPU-second, and a model of a larger machine.
//
//   node bench/scaling-report.mjs --results bench/results/scaling-….json [--cpus 2]
//
// The model: on this machine the load generator and the backend share the cores with the proxy,
// so a second worker mostly takes CPU from them. Where the proxy has N cores to itself, N workers
// each run at the per-CPU-second rate measured with 2 workers (which includes the cost of being
// several processes): rate ≈ N × (rate per proxy CPU-second, 2 workers), until the load
// generator, the backend or the network is the limit (the `direct` row is that limit here).
import fs from 'node:fs';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({ options: { results: { type: 'string' }, cpus: { type: 'string', default: '2' } } });
const res = JSON.parse(fs.readFileSync(a.results, 'utf8'));
// rate field, unit, the harness's own per-proxy-CPU-second field (median of the reps) and its scale to the unit
const RATE = {
  throughput: ['gbps', 'Gbit/s', 'gbytes_per_cpu_s', 8],
  tls_conn_rate: ['conn_per_s', 'conn/s', 'conns_per_cpu_s', 1],
  http_rps: ['rps', 'req/s', 'req_per_cpu_s', 1],
};
const f = (v, d = 0) => (v == null || Number.isNaN(v) ? '–' : v.toFixed(d));
const out = ['', '## Scaling: `sightline start --workers 1` vs `--workers 2` (same run, interleaved reps)', ''];
out.push(
  `Machine: ${a.cpus} CPUs shared by the load generator, the backend and the proxy. CPU % is the proxy's process tree (primary + workers), 100 % = one core.`,
  '',
);
out.push(
  '| workload | unit | direct | 1 worker | CPU % | 2 workers | CPU % | scaling (2/1) | per proxy CPU-s, 1 w | per proxy CPU-s, 2 w | model: 4 cores | model: 8 cores |',
);
out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const [wl, [key, unit, perKey, scale]] of Object.entries(RATE)) {
  const rows = res.workloads?.[wl]?.rows ?? [];
  const pick = (p) => rows.find((r) => r.proxy === p);
  const d = pick('direct');
  const w1 = pick('sightline-w1');
  const w2 = pick('sightline-w2');
  if (!w1 || !w2) continue;
  const per = (r) => (r?.[perKey] != null ? r[perKey] * scale : NaN);
  const dec = wl === 'throughput' ? 2 : 0;
  const p2 = per(w2);
  out.push(
    `| ${wl} | ${unit} | ${f(d?.[key], dec)} | ${f(w1[key], dec)} | ${f(w1.proxy_cpu_pct)} | ${f(w2[key], dec)} | ${f(w2.proxy_cpu_pct)} | ${f(w2[key] / w1[key], 2)}× | ${f(per(w1), dec)} | ${f(p2, dec)} | ${f(4 * p2, dec)} | ${f(8 * p2, dec)} |`,
  );
}
out.push(
  '',
  'Model columns: N × (rate per proxy CPU-second with 2 workers), i.e. N workers on N cores the proxy has to itself; the load generator, the backend and the network (the `direct` column is their limit on this machine) cap it first.',
  '',
);
process.stdout.write(out.join('\n') + '\n');
