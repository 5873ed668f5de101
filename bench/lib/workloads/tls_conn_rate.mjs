// 2. tls_conn_rate: new TLS connections per second through SNI passthrough
// (and, for comparison, plain L4 forwarding) to an nginx HTTPS backend with a
// self-signed ECDSA P-256 cert for "localhost". wrk sends "Connection: close",
// so every request is a fresh TCP connect + full TLS handshake (wrk does not
// resume sessions). SNI is "localhost"; wrk connects to 127.0.0.1 only.
// Latency: wrk's latency clock starts after the TLS handshake (request sent ->
// response received on the fresh connection); cycle_ms = connections/rate is
// the mean full cycle (connect + handshake + request) by Little's law.
import path from 'node:path';
import { runCapture, round, freePorts } from '../util.mjs';
import { rangeCol } from '../util.mjs';
import { startNginxBackend } from '../backends.mjs';
import { makeRouteFor } from '../routes.mjs';

export function parseWrk(r) {
  const line = (r.out || '').split('\n').find((l) => l.startsWith('WRKJSON '));
  if (!line) throw new Error(`wrk produced no result (rc=${r.code}): ${(r.err || r.out || '').slice(0, 300)}`);
  return JSON.parse(line.slice(8));
}

export default {
  name: 'tls_conn_rate',
  modes: ['sni'],
  fallbackModes: ['l4'], // for a proxy without an sni mode (pass --modes sni,l4 to run both everywhere)
  primary: 'conn_per_s',
  async setup(ctx, opts) {
    const [tlsPort] = await freePorts(1);
    const be = await startNginxBackend(ctx, { httpsPort: tlsPort, workers: Number(opts.backendWorkers ?? 1) });
    const secs = Number(opts.duration ?? 5);
    const conns = Number(opts.connections ?? 32);
    return {
      be,
      tlsPort,
      secs,
      conns,
      routeFor: await makeRouteFor({ tlsPort }),
      params: {
        seconds: secs,
        connections: conns,
        wrk_threads: ctx.wrkThreads,
        sni: 'localhost',
        cert: 'ECDSA P-256 self-signed',
        backend: 'nginx https return 200',
      },
      loadgenCmd: `BENCH_CONN_CLOSE=1 BENCH_ADDR_PORT=<listen_port> wrk -t ${ctx.wrkThreads} -c ${conns} -d ${secs}s --timeout 5s -s wrk/report.lua https://localhost:<listen_port>/`,
      backendCmd: be.cmd,
    };
  },
  async runOnce(ctx, inst, env) {
    const lua = path.join(ctx.benchDir, 'wrk/report.lua');
    const args = [
      '-t',
      String(ctx.wrkThreads),
      '-c',
      String(env.conns),
      '-d',
      `${env.secs}s`,
      '--timeout',
      '5s',
      '-s',
      lua,
      `https://localhost:${inst.port}/`,
    ];
    const r = await runCapture('wrk', args, {
      timeoutMs: (env.secs + 20) * 1000,
      env: { ...process.env, BENCH_CONN_CLOSE: '1', BENCH_ADDR_PORT: String(inst.port) },
    });
    const w = parseWrk(r);
    const secs = w.duration_us / 1e6;
    const errors = w.err_connect + w.err_read + w.err_write + w.err_status + w.err_timeout;
    if (w.requests === 0)
      throw new Error(
        `no successful requests (errors: connect ${w.err_connect}, read ${w.err_read}, status ${w.err_status})`,
      );
    const rate = w.requests / secs;
    return {
      conn_per_s: round(rate, 1),
      requests: w.requests,
      errors,
      lat_p50_ms: round(w.lat_p50_us / 1000, 3),
      lat_p99_ms: round(w.lat_p99_us / 1000, 3),
      cycle_ms: round((env.conns / rate) * 1000, 3),
      seconds: round(secs, 3),
    };
  },
  perRep(m) {
    m.conns_per_cpu_s = m.proxy_cpu_s > 0 ? round(m.requests / m.proxy_cpu_s, 0) : null;
    m.proxy_cpu_pct = m.proxy_cpu_s != null ? round((100 * m.proxy_cpu_s) / m.seconds, 1) : null;
  },
  brief: (m) =>
    m.error
      ? `ERROR ${m.error}`
      : `${m.conn_per_s} conn/s  p50 ${m.lat_p50_ms}ms p99 ${m.lat_p99_ms}ms  err ${m.errors}  cpu ${m.proxy_cpu_s ?? '-'}s`,
  columns: [
    { label: 'proxy', key: 'label' },
    { label: 'conn/s', key: 'conn_per_s', fmt: (v) => v.toFixed(0) },
    rangeCol('conn_per_s', 0),
    { label: 'vs direct', key: 'conn_per_s_vs_direct', fmt: (v) => v.toFixed(2) },
    { label: 'req p50 ms', key: 'lat_p50_ms', fmt: (v) => v.toFixed(2) },
    { label: 'req p99 ms', key: 'lat_p99_ms', fmt: (v) => v.toFixed(2) },
    { label: 'cycle ms', key: 'cycle_ms', fmt: (v) => v.toFixed(2) },
    { label: 'errors', key: 'errors', fmt: (v) => v.toFixed(0) },
    { label: 'proxy CPU %', key: 'proxy_cpu_pct', fmt: (v) => v.toFixed(0) },
    { label: 'conn per CPU-s', key: 'conns_per_cpu_s', fmt: (v) => v.toFixed(0) },
    { label: 'reps', get: (r) => `${r.reps_ok}/${r.reps}` },
  ],
  async teardown(ctx, env) {
    await env.be.stop();
  },
};
