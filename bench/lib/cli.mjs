#!/usr/bin/env node
// The benchmark harness's CLI. Run it through bench/run.sh (raises ulimit -n, freezes the build,
// merges several workloads into one results file):
//   bash bench/run.sh <workload...|selftest|versions|calibrate|report|compare> [options]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { log, round, tryVersion } from './util.mjs';
import { makeContext, cleanupContext, RESULTS_DIR } from './env.mjs';
import { createRequire } from 'node:module';
import { installCleanupHandlers, stopAll, startedPids } from './procs.mjs';
import { runWorkload } from './driver.mjs';
import { beforeDef, controlDef, putFromEnv, sightlineDef } from './proxies.mjs';
import { renderMarkdown, summaryTable, compareMarkdown } from './report.mjs';
import { selftest } from './selftest.mjs';
import { calibrate } from './calib.mjs';
import throughput from './workloads/throughput.mjs';
import tls_conn_rate from './workloads/tls_conn_rate.mjs';
import http_rps from './workloads/http_rps.mjs';
import idle_memory from './workloads/idle_memory.mjs';
import ws_echo_latency from './workloads/ws_echo_latency.mjs';

const WORKLOADS = { throughput, tls_conn_rate, http_rps, idle_memory, ws_echo_latency };

const USAGE = `usage: bash bench/run.sh <command> [options]

commands:
  throughput        iperf3 bulk transfer through L4 forwarders (Gbit/s, proxy CPU)
  tls_conn_rate     new TLS conns/s through SNI passthrough (+ plain L4) to nginx https
  http_rps          HTTP/1.1 keep-alive req/s through HTTP-mode reverse proxies
  idle_memory       N idle TCP conns through L4 forwarders: proxy RSS/PSS per conn
  ws_echo_latency   M WebSocket clients echoing small messages through L4 forwarders
  all               every workload above, in that order; writes results/*.json + .md
  selftest          functional check of every proxy/mode (run it before benchmarking)
  versions          print tool versions
  calibrate [S]     sample this machine's single-core speed for S seconds (default 20): shows noise
  report FILE.json  render a results file as markdown
  compare A.json B.json ...  side by side: ratio to direct and per-CPU efficiency per proxy

options (all optional):
  --proxies a,b      subset of: direct,haproxy,nginx,node,sightline (default: all of them), and
                     sightline-before (alias of sightline@<ref>) with run.sh --before REF
  --modes m1,m2      override the workload's modes (l4, sni, http)
  --reps N           repetitions per proxy, interleaved (default 3)
  --duration S       seconds per timed run (workload default: 3 throughput, 5 others)
  --workers N        haproxy nbthread / nginx worker_processes (default 1)
  --wrk-threads N    wrk -t (default 1)
  --connections N    wrk -c (tls_conn_rate default 32, http_rps default 50)
  --conns N          idle_memory connections (default 10000, capped by open-files limit)
  --clients M        ws_echo_latency clients (default 50)
  --size B           ws message bytes (default 64)
  --streams N        iperf3 -P (default 1)
  --backend-workers N  nginx backend worker_processes (default 1)
  --out FILE         results file (run.sh sets it; default bench/results/<name>-YYYYMMDD-HHMMSS.json)
  --keep             keep the temp dir (configs, logs) for inspection
  --put-cmd CMD      a proxy under test from a command template (same as PROXY_CMD; see
                     bench/README.md); --put-name, --put-modes, --put-config likewise
`;

function parse(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      proxies: { type: 'string' },
      modes: { type: 'string' },
      reps: { type: 'string' },
      duration: { type: 'string' },
      workers: { type: 'string' },
      'wrk-threads': { type: 'string' },
      connections: { type: 'string' },
      conns: { type: 'string' },
      clients: { type: 'string' },
      size: { type: 'string' },
      streams: { type: 'string' },
      'backend-workers': { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean' },
      'settle-ms': { type: 'string' },
      'put-cmd': { type: 'string' },
      'put-name': { type: 'string' },
      'put-modes': { type: 'string' },
      'put-config': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const o = {
    proxies: values.proxies,
    modes: values.modes,
    reps: values.reps,
    duration: values.duration,
    workers: values.workers,
    wrkThreads: values['wrk-threads'],
    connections: values.connections,
    conns: values.conns,
    clients: values.clients,
    size: values.size,
    streams: values.streams,
    backendWorkers: values['backend-workers'],
    out: values.out,
    keep: values.keep,
    settleMs: values['settle-ms'],
    help: values.help,
  };
  o.putEnv = {};
  if (values['put-cmd']) o.putEnv.PROXY_CMD = values['put-cmd'];
  if (values['put-name']) o.putEnv.PROXY_NAME = values['put-name'];
  if (values['put-modes']) o.putEnv.PROXY_MODES = values['put-modes'];
  if (values['put-config']) o.putEnv.PROXY_CONFIG_TEMPLATE = values['put-config'];
  if (!process.env.PROXY_CWD && process.env.BENCH_INVOKE_CWD) o.putEnv.PROXY_CWD = process.env.BENCH_INVOKE_CWD;
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return { cmd: positionals[0], rest: positionals.slice(1), o };
}

export function versions() {
  let ws = null;
  try {
    ws = createRequire(import.meta.url)('ws/package.json').version;
  } catch {}
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1];
  return {
    haproxy: tryVersion('haproxy', ['-v']),
    nginx: tryVersion('nginx', ['-v']),
    iperf3: tryVersion('iperf3', ['--version']),
    wrk: tryVersion('wrk', ['-v'])
      .replace(/Copyright.*/, '')
      .trim(),
    h2load: tryVersion('h2load', ['--version']),
    openssl: tryVersion('openssl', ['version']),
    node: process.version,
    node_openssl: process.versions.openssl,
    ws,
    kernel: `${os.type()} ${os.release()}`,
    cpu: `${os.cpus().length} x ${cpu}`,
    mem_gib: round(os.totalmem() / 2 ** 30, 1),
  };
}

// How the sightline proxy of this run was started (the adapter's environment knobs).
function sightlineSettings() {
  const e = process.env;
  return {
    name: sightlineDef().name,
    telemetry: e.SIGHTLINE_TELEMETRY || 'default',
    node_args: e.SIGHTLINE_NODE_ARGS ?? '',
    via: e.SIGHTLINE_VIA || 'library',
    adapter: e.SIGHTLINE_ADAPTER || 'bench/sightline-bench.mjs',
    build: e.SIGHTLINE_BUILD_NOTE || null,
  };
}

// The second Sightline build of a before/after run (run.sh --before REF), or null.
function beforeSettings() {
  const d = beforeDef();
  if (!d) return null;
  return {
    name: d.name,
    ref: process.env.SIGHTLINE_BEFORE_REF || null,
    build: process.env.SIGHTLINE_BEFORE_NOTE || null,
    after: sightlineDef().name,
    control: controlDef()?.name ?? null,
  };
}

function dateStamp(withTime) {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  const s = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`;
  return withTime ? `${s}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}` : s;
}

async function main() {
  const { cmd, rest, o } = parse(process.argv.slice(2));
  if (o.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (!cmd) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  if (cmd === 'versions') {
    console.log(JSON.stringify(versions(), null, 2));
    return;
  }
  if (cmd === 'calibrate') {
    const c = await calibrate(Number(rest[0] || 20));
    process.stderr.write(
      `single-core sha256 MB/s over ${c.n} samples: min ${c.min}  p10 ${c.p10}  median ${c.median}  p90 ${c.p90}  max ${c.max}  (max/min ${c.spread}x)\n`,
    );
    console.log(JSON.stringify({ ...c, samples: undefined }));
    return;
  }
  if (cmd === 'report') {
    const j = JSON.parse(fs.readFileSync(path.resolve(process.env.BENCH_INVOKE_CWD || '.', rest[0]), 'utf8'));
    process.stdout.write(renderMarkdown(j));
    return;
  }
  if (cmd === 'compare') {
    const files = rest.map((f) => ({
      name: path.basename(f).replace(/\.json$/, ''),
      json: JSON.parse(fs.readFileSync(path.resolve(process.env.BENCH_INVOKE_CWD || '.', f), 'utf8')),
    }));
    process.stdout.write(compareMarkdown(files));
    return;
  }
  const names = cmd === 'all' ? Object.keys(WORKLOADS) : [cmd];
  if (cmd !== 'selftest' && names.some((n) => !WORKLOADS[n])) {
    process.stderr.write(`unknown command ${cmd}\n\n${USAGE}`);
    process.exit(2);
  }

  installCleanupHandlers();
  const ctx = makeContext(o);
  // Also when a signal ends the harness (procs.mjs: process.exit after stopping its processes).
  process.on('exit', () => cleanupContext(ctx));
  const put = putFromEnv(process.env, o.putEnv);
  if (put) log(`proxy under test: ${put.name} modes=${put.modes.join(',')}`);
  const started = Date.now();
  try {
    if (cmd === 'selftest') {
      const ok = await selftest(ctx, o);
      process.exitCode = ok ? 0 : 1;
      return;
    }
    const results = {
      schema: 'proxy-bench/1',
      created: new Date().toISOString(),
      command: `bench/run.sh ${process.argv.slice(2).join(' ')}`,
      host: { cpus: os.cpus().length, note: 'load generator, proxy and backend share these cores; loopback only' },
      versions: versions(),
      settings: {
        reps: ctx.reps,
        proxy_workers: ctx.workers,
        wrk_threads: ctx.wrkThreads,
        nofile: ctx.nofile,
        sightline: sightlineSettings(),
        before: beforeSettings(),
        put: put ? { name: put.name, modes: put.modes, cmd: put.modes.map((m) => `${m}: ${put.cmdFor(m)}`) } : null,
      },
      workloads: {},
    };
    const cal = async (when) => {
      const c = await calibrate(3);
      log(`machine speed (${when}): sha256 MB/s min ${c.min} median ${c.median} max ${c.max} (max/min ${c.spread}x)`);
      return { ...c, samples: undefined };
    };
    results.calibration = { start: await cal('start') };
    for (const n of names) {
      const wo = { ...o };
      results.workloads[n] = await runWorkload(ctx, WORKLOADS[n], wo);
    }
    results.calibration.end = await cal('end');
    results.elapsed_s = round((Date.now() - started) / 1000, 1);
    results.started_pids = startedPids;
    if (cmd === 'all' || o.out) {
      const out = o.out
        ? path.resolve(process.env.BENCH_INVOKE_CWD || process.cwd(), o.out)
        : path.join(RESULTS_DIR, `${put ? put.name : sightlineDef().name}-${dateStamp(true)}.json`);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
      fs.writeFileSync(out.replace(/\.json$/, '') + '.md', renderMarkdown(results));
      if (names.length > 1)
        process.stderr.write(`\n## summary (medians; ratio to direct)\n${summaryTable(results)}\n\n`);
      log(`wrote ${out} (+ .md) in ${results.elapsed_s}s`);
    }
  } finally {
    await stopAll();
    cleanupContext(ctx);
  }
}

main().catch(async (e) => {
  log('fatal:', e.stack || e);
  await stopAll();
  process.exit(1);
});
