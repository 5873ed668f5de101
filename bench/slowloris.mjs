#!/usr/bin/env node
// Slowloris against a TLS-terminated HTTP route, and what a legitimate client sees (issue 13):
// `sightline start` (the real CLI) with 1 worker and with `--workers auto`, one after the other.
// Bounded and loopback only: N attacker connections for a fixed time, then everything stops.
//
//   node bench/slowloris.mjs [--conns 2000] [--attack-s 20] [--baseline-s 5] [--rate 40] [--workers 1,auto]
//
// Per setting: Sightline with one route (TLS terminate, HTTP/1.1) to a local HTTP backend,
// the limits per client IP lifted (the attack stands for many addresses) and default telemetry
// (metrics on, logs off). The legitimate client makes `rate` requests per second, each on a new
// TLS connection (the handshake is what the attack competes with), first with no attack
// (baseline), then while an attacker process holds `conns` connections: each completes its TLS
// handshake, sends part of a request head and one more header line every 2 s, and reconnects as
// soon as Sightline closes it (the head timeout, http.requestHeadersTimeout, 10 s by default).
// Printed: latency p50/p99/max of the legitimate requests, their errors, the attacker's
// connections held and re-made, and the CPU of Sightline's process tree (100 % = one core).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    conns: { type: 'string', default: '2000' },
    'attack-s': { type: 'string', default: '20' },
    'baseline-s': { type: 'string', default: '5' },
    rate: { type: 'string', default: '40' },
    workers: { type: 'string', default: '1,auto' },
    // internal: run as the attacker process
    attacker: { type: 'boolean', default: false },
    port: { type: 'string' },
  },
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the attacker (a child process, so its CPU is not the measuring client's) --------------------
if (a.attacker) {
  const port = Number(a.port);
  const target = Number(a.conns);
  let open = 0;
  let made = 0;
  let stopping = false;
  const one = () => {
    if (stopping) return;
    made++;
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false });
    let drip = null;
    let counted = false;
    s.on('secureConnect', () => {
      open++;
      counted = true;
      s.write('GET / HTTP/1.1\r\nHost: localhost\r\n');
      drip = setInterval(() => s.writable && s.write(`X-Drip-${Date.now() % 1000}: x\r\n`), 2000);
    });
    // Read (and drop) what Sightline sends, so its 408 and FIN end the connection here and the
    // attacker reconnects at once: handshake churn, the expensive part. (An attacker that never
    // reads is held by Sightline past the 408 until the half-zombie grace: a separate finding.)
    s.resume();
    s.on('error', () => {});
    s.on('close', () => {
      if (drip) clearInterval(drip);
      if (counted) open--;
      setImmediate(one);
    });
  };
  // Reports and the stop first: a loaded machine can make the ramp slow.
  const report = setInterval(() => process.stdout.write(`${JSON.stringify({ open, made })}\n`), 500);
  process.on('SIGTERM', () => {
    stopping = true;
    clearInterval(report);
    process.stdout.write(`${JSON.stringify({ open, made, final: true })}\n`);
    process.exit(0);
  });
  // Ramp up 100 at a time so the attacker itself does not stall.
  for (let i = 0; i < target && !stopping; i++) {
    one();
    if (i % 100 === 99) await sleep(50);
  }
} else {
  await main();
}

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** CPU seconds of a process and its children (the cluster workers). */
function treeCpu(pid) {
  const hz = 100;
  let total = 0;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (Number(d) === pid || Number(f[1]) === pid) total += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return total / hz;
}

/** `rate` requests per second for `seconds`, each on a new TLS connection; latencies in ms. */
async function legit(port, seconds, rate) {
  const lat = [];
  let errors = 0;
  const pending = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const t0 = performance.now();
    pending.push(
      new Promise((resolve) => {
        const req = https.get(
          {
            host: '127.0.0.1',
            port,
            path: '/',
            servername: 'localhost',
            rejectUnauthorized: false,
            agent: false,
            timeout: 10_000,
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              lat.push(performance.now() - t0);
              resolve();
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', () => {
          errors++;
          resolve();
        });
      }),
    );
    await sleep(1000 / rate);
  }
  await Promise.all(pending);
  lat.sort((x, y) => x - y);
  return { n: lat.length, errors, p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1] ?? NaN };
}

async function main() {
  const selfsigned = (await import('selfsigned')).default;
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }],
  });
  const backend = http.createServer((_req, res) => res.end('ok'));
  await new Promise((r) => backend.listen(0, '127.0.0.1', r));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-slowloris-'));
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  const rows = [];
  for (const workers of a.workers.split(',')) {
    const port = await new Promise((r) => {
      const s = http.createServer().listen(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => r(p));
      });
    });
    const cfg = path.join(dir, `sightline-${workers}.json`);
    fs.writeFileSync(
      cfg,
      JSON.stringify({
        listenHost: '127.0.0.1',
        maxConnectionsPerIP: 0,
        connectionRateLimitPerMinute: 0,
        defaults: { security: { maxConnections: 100_000 } },
        admin: { enabled: false },
        telemetry: { logging: { level: 'silent' } },
        routes: [
          {
            name: 'tls-http',
            match: { ports: port },
            action: {
              type: 'forward',
              protocol: 'http',
              target: { host: '127.0.0.1', port: backend.address().port },
              tls: { mode: 'terminate', certificate: { key: pems.private, cert: pems.cert } },
            },
          },
        ],
      }),
    );
    const proxy = spawn(
      process.execPath,
      [path.join(root, 'bin/sightline.js'), 'start', '-c', cfg, '--workers', workers],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    // The CLI's human lines ("listening on", "N workers") are on stderr; stdout is the JSON log.
    let out = '';
    proxy.stderr.on('data', (d) => {
      out += d;
      process.stderr.write(d);
    });
    for (let i = 0; i < 200 && !out.includes('listening on'); i++) await sleep(50);
    if (!out.includes('listening on')) {
      proxy.kill('SIGKILL'); // bounded: never leave a proxy behind
      throw new Error(`sightline did not start: ${out}`);
    }
    await sleep(500);
    const count = /(\d+) workers/.exec(out)?.[1] ?? '1';

    const base = await legit(port, Number(a['baseline-s']), Number(a.rate));
    const attacker = spawn(
      process.execPath,
      [new URL(import.meta.url).pathname, '--attacker', '--port', String(port), '--conns', a.conns],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let last = { open: 0, made: 0 };
    let peak = 0;
    let measuring = false;
    attacker.stdout.on('data', (d) => {
      for (const line of String(d).trim().split('\n')) {
        try {
          last = JSON.parse(line);
          if (measuring) peak = Math.max(peak, last.open);
        } catch {}
      }
    });
    // Until the attacker holds (nearly) all its connections, at most 15 s.
    for (let i = 0; i < 150 && last.open < 0.95 * Number(a.conns); i++) await sleep(100);
    measuring = true;
    const made0 = last.made;
    const cpu0 = treeCpu(proxy.pid);
    const t0 = Date.now();
    const under = await legit(port, Number(a['attack-s']), Number(a.rate));
    const cpu = (treeCpu(proxy.pid) - cpu0) / ((Date.now() - t0) / 1000);
    attacker.kill('SIGTERM');
    await new Promise((r) => attacker.once('exit', r));
    proxy.kill('SIGTERM');
    await new Promise((r) => proxy.once('exit', r));
    rows.push({ workers: `${workers} (${count})`, base, under, held: peak, made: last.made - made0, cpu });
    process.stderr.write(
      `slowloris: workers ${workers}: baseline p99 ${base.p99.toFixed(1)} ms, under attack p99 ${under.p99.toFixed(1)} ms\n`,
    );
  }
  backend.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const f = (v) => (Number.isNaN(v) ? '–' : v.toFixed(1));
  const lines = [
    `Slowloris: ${a.conns} connections on a TLS-terminated HTTP route, ${a['attack-s']} s; legitimate client ${a.rate} req/s, a new TLS connection each (${os.cpus().length} CPUs, loopback, load shared with the attacker)`,
    '',
    '| workers | baseline p50 / p99 / max ms | under attack p50 / p99 / max ms | legit requests (errors) | attack conns open (peak) / made during it | Sightline CPU % |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.workers} | ${f(r.base.p50)} / ${f(r.base.p99)} / ${f(r.base.max)} | ${f(r.under.p50)} / ${f(r.under.p99)} / ${f(r.under.max)} | ${r.under.n} (${r.under.errors}) | ${r.held} / ${r.made} | ${(r.cpu * 100).toFixed(0)} |`,
    ),
    '',
  ];
  process.stdout.write(lines.join('\n'));
}
