#!/usr/bin/env node
// Soak: many concurrent clients with a hostile mix through Sightline and through a naive Node
// forwarder, one after the other in the same run, against the same saturated echo backend.
// Loopback only; bounded in time (--duration per proxy) and count (--max-conns per proxy).
//
//   npm run build && node bench/soak.mjs [--clients 1000] [--duration 30] [--max-conns 40000]
//        [--warmup duration/3] [--backend-rate 40000000] [--proxies sightline,naive] [--seed 1] [--json FILE]
//        [--proxy-nofile N]   (prlimit the proxy processes: descriptor exhaustion)
//        [--telemetry off|default] (Sightline's telemetry: off, or the library defaults: metrics,
//        patterns, info logs on stdout)  [--proxy-stdout inherit|ignore|pipe] (pipe: never read)
//
// Client mix (each of --clients workers loops: pick one, run it, repeat):
//   echo  40%  write 1..64 KiB in chunks, read it all back (byte-compared), FIN, wait for close
//   half  20%  write 1..64 KiB and FIN at once (half-close), read until the server's FIN
//   slow  10%  write 256 KiB, read it back slowly (pause 20 ms every 16 KiB): a slow reader
//   reset 10%  write a little, then RST after 0..30 ms
//   garbage 10% write random bytes, RST after 0..100 ms
//   silent 10% connect, say nothing for 0.5..2 s, FIN, wait for close
// An op not done within --op-timeout (default 30 s) is failed.
//
// Per proxy it reports echoes/half-closes/slow/silent ok and failed, byte mismatches, proxy CPU,
// and recovery: fds and connection records back to their pre-run baseline within 10 s of the end,
// RSS at the end vs its post-warm-up level. Not a pass/fail test; the verdict line says whether
// the issue-11 bar holds (0 mismatches, failures <= 1.5x the forwarder's, recovery, RSS +-20 %).
import { execFileSync, fork } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '30' },
    'max-conns': { type: 'string', default: '40000' },
    warmup: { type: 'string' },
    'backend-rate': { type: 'string', default: '40000000' },
    'op-timeout': { type: 'string', default: '30' },
    proxies: { type: 'string', default: 'sightline,naive' },
    seed: { type: 'string', default: '1' },
    json: { type: 'string' },
    'proxy-nofile': { type: 'string' },
    telemetry: { type: 'string', default: 'off' },
    'proxy-stdout': { type: 'string', default: 'inherit' },
  },
});
const CLIENTS = Number(a.clients);
const DURATION_MS = Number(a.duration) * 1000;
const MAX_CONNS = Number(a['max-conns']);
// RSS is compared with its level after the warm-up (default: the first third of the run).
const WARMUP_MS = a.warmup === undefined ? DURATION_MS / 3 : Number(a.warmup) * 1000;
const OP_TIMEOUT_MS = Number(a['op-timeout']) * 1000;
const HOST = '127.0.0.1';
const here = new URL('.', import.meta.url);

// Deterministic PRNG (mulberry32) so both proxies get the same mix.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const POOL = Buffer.alloc(1 << 20);
{
  const r = rng(42);
  for (let i = 0; i < POOL.length; i++) POOL[i] = (r() * 256) | 0;
}
const payload = (r, size) => {
  const off = (r() * (POOL.length - size)) | 0;
  return POOL.subarray(off, off + size);
};
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function child(file, args) {
  // --proxy-stdout pipe: a pipe nobody reads (a supervisor that does not drain the logs).
  const out = file === 'soak-proxy.mjs' ? a['proxy-stdout'] : 'inherit';
  const env = { ...process.env, SOAK_TELEMETRY: a.telemetry };
  const cp = fork(new URL(file, here), args, { stdio: ['ignore', out, 'inherit', 'ipc'], env });
  const waiters = [];
  cp.on('message', (m) => waiters.shift()?.(m));
  const next = () => new Promise((res) => waiters.push(res));
  return { cp, next, ask: (m) => (cp.send(m), next()) };
}

// ---- one client op ------------------------------------------------------------------------------

/**
 * Run one op. Resolves with 'ok' | 'failed' | 'mismatch'. Never rejects.
 * `send`: bytes to write; `fin`: FIN right after writing; `slow`: pause reads;
 * `expect`: compare the bytes read with `send` and want all of them.
 */
function exchange(port, { send, fin, slow, expect }) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port, allowHalfOpen: true });
    let got = 0;
    let verdict = null;
    let sawEnd = false;
    const finish = (v) => {
      if (verdict !== null) return;
      verdict = v;
      clearTimeout(timer);
      if (v !== 'ok') s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish('failed'), OP_TIMEOUT_MS);
    s.on('error', () => finish('failed'));
    s.on('connect', () => {
      for (let off = 0; off < send.length; off += 16384)
        s.write(send.subarray(off, Math.min(send.length, off + 16384)));
      if (fin) s.end();
    });
    s.on('data', (chunk) => {
      if (expect) {
        if (got + chunk.length > send.length || !chunk.equals(send.subarray(got, got + chunk.length)))
          return finish('mismatch');
      }
      const before = got;
      got += chunk.length;
      if (slow && Math.floor(got / 16384) !== Math.floor(before / 16384)) {
        s.pause();
        setTimeout(() => s.resume(), 20);
      }
      if (!fin && got === send.length) s.end();
    });
    s.on('end', () => {
      sawEnd = true;
      if (expect && got !== send.length) finish('failed');
    });
    s.on('close', () => finish(sawEnd && (!expect || got === send.length) ? 'ok' : 'failed'));
  });
}

function abortAfter(port, send, ms) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    s.on('error', () => {});
    s.on('connect', () => {
      s.write(send);
      setTimeout(() => {
        s.resetAndDestroy();
        resolve('ok');
      }, ms);
    });
    s.on('close', () => resolve('ok'));
  });
}

function silent(port, ms) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port, allowHalfOpen: true });
    let sawEnd = false;
    const timer = setTimeout(() => {
      s.destroy();
      resolve('failed');
    }, ms + OP_TIMEOUT_MS);
    s.on('error', () => {});
    s.on('connect', () => setTimeout(() => s.end(), ms));
    s.on('end', () => (sawEnd = true));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(sawEnd ? 'ok' : 'failed');
    });
  });
}

const KINDS = ['echo', 'half', 'slow', 'reset', 'garbage', 'silent'];
const WEIGHTS = [0.4, 0.2, 0.1, 0.1, 0.1, 0.1];
function pick(r) {
  let x = r();
  for (let i = 0; i < KINDS.length; i++) if ((x -= WEIGHTS[i]) < 0) return KINDS[i];
  return 'echo';
}

async function op(kind, port, r) {
  switch (kind) {
    case 'echo':
      return exchange(port, { send: payload(r, 1 + ((r() * 65536) | 0)), fin: false, slow: false, expect: true });
    case 'half':
      return exchange(port, { send: payload(r, 1 + ((r() * 65536) | 0)), fin: true, slow: false, expect: true });
    case 'slow':
      return exchange(port, { send: payload(r, 262144), fin: false, slow: true, expect: true });
    case 'reset':
      return abortAfter(port, payload(r, 1 + ((r() * 4096) | 0)), (r() * 30) | 0);
    case 'garbage':
      return abortAfter(port, payload(r, 1 + ((r() * 8192) | 0)), (r() * 100) | 0);
    default:
      return silent(port, 500 + ((r() * 1500) | 0));
  }
}

// ---- one proxy ----------------------------------------------------------------------------------

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, HOST, r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

async function soakOne(name, backendPort) {
  const port = await freePort();
  const p = child('soak-proxy.mjs', [name, String(port), String(backendPort)]);
  // A low descriptor limit on the proxy alone (e.g. 1024: fewer than 2 per client): EMFILE paths.
  if (a['proxy-nofile'] !== undefined)
    execFileSync('prlimit', ['--pid', String(p.cp.pid), `--nofile=${a['proxy-nofile']}:${a['proxy-nofile']}`]);
  await p.next();
  await sleep(300);
  const base = await p.ask({ type: 'stats' });
  const counts = Object.fromEntries(KINDS.map((k) => [k, { ok: 0, failed: 0, mismatch: 0 }]));
  const t0 = Date.now();
  const deadline = t0 + DURATION_MS;
  let started = 0;
  let warm = null;
  let peakRss = 0;
  let peakFds = 0;
  const sampler = setInterval(async () => {
    const st = await p.ask({ type: 'stats' });
    peakRss = Math.max(peakRss, st.rssKb);
    peakFds = Math.max(peakFds, st.fds);
    if (warm === null && Date.now() - t0 >= WARMUP_MS) warm = st;
  }, 500);
  const worker = async (i) => {
    const r = rng(Number(a.seed) * 100003 + i);
    while (Date.now() < deadline && started < MAX_CONNS) {
      started++;
      const kind = pick(r);
      counts[kind][await op(kind, port, r)]++;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => worker(i)));
  clearInterval(sampler);
  const endAt = Date.now();
  const atEnd = await p.ask({ type: 'stats' });
  // Recovery: fds and records back to their baseline within 10 s.
  let rec = atEnd;
  let recoveredMs = null;
  while (Date.now() - endAt < 10_000) {
    rec = await p.ask({ type: 'stats' });
    if (rec.records <= base.records && rec.fds <= base.fds) {
      recoveredMs = Date.now() - endAt;
      break;
    }
    await sleep(100);
  }
  p.cp.send({ type: 'stop' });
  // A proxy whose stop() hangs (e.g. logs it cannot flush) is killed after 3 s.
  const kill = setTimeout(() => p.cp.kill('SIGKILL'), 3000);
  await once(p.cp, 'exit');
  clearTimeout(kill);
  return {
    name,
    ops: started,
    runMs: endAt - t0,
    counts,
    base,
    warm,
    atEnd,
    after: rec,
    recoveredMs,
    peakRss,
    peakFds,
    cpuMs: rec.cpuMs - base.cpuMs,
  };
}

// ---- main ---------------------------------------------------------------------------------------

const backend = child('soak-backend.mjs', [a['backend-rate']]);
const { port: backendPort } = await backend.next();
const results = [];
for (const name of a.proxies.split(',')) {
  process.stderr.write(
    `soak: ${name}: ${CLIENTS} clients, ${DURATION_MS / 1000} s, at most ${MAX_CONNS} connections ...\n`,
  );
  const r = await soakOne(name, backendPort);
  results.push(r);
  process.stderr.write(
    `soak: ${name}: ${JSON.stringify({ ops: r.ops, counts: r.counts, reasons: r.after.reasons })}\n`,
  );
}
backend.cp.kill();

const failures = (r) => r.counts.echo.failed + r.counts.half.failed + r.counts.slow.failed + r.counts.silent.failed;
const mismatches = (r) => KINDS.reduce((n, k) => n + r.counts[k].mismatch, 0);
const row = (r) => {
  const c = r.counts;
  const warmRss = r.warm?.rssKb ?? r.base.rssKb;
  const rssDelta = ((r.after.rssKb - warmRss) / warmRss) * 100;
  return [
    r.name,
    r.ops,
    `${c.echo.ok}/${c.echo.failed}`,
    `${c.half.ok}/${c.half.failed}`,
    `${c.slow.ok}/${c.slow.failed}`,
    `${c.silent.ok}/${c.silent.failed}`,
    `${c.reset.ok + c.garbage.ok}`,
    mismatches(r),
    `${r.base.fds}→${r.peakFds}→${r.atEnd.fds}→${r.after.fds}`,
    `${r.atEnd.records}→${r.after.records}`,
    r.recoveredMs === null ? 'NO' : `${r.recoveredMs} ms`,
    `${Math.round(warmRss / 1024)}→${Math.round(r.after.rssKb / 1024)} MiB (${rssDelta >= 0 ? '+' : ''}${rssDelta.toFixed(1)} %)`,
    (r.cpuMs / 1000).toFixed(1),
    Math.round(r.ops / (r.cpuMs / 1000)),
  ];
};
const head = [
  'proxy',
  'ops',
  'echo ok/failed',
  'half-close ok/failed',
  'slow ok/failed',
  'silent ok/failed',
  'resets+garbage',
  'mismatches',
  'fds base→peak→end→+10s',
  'records end→+10s',
  'recovered',
  'RSS warm→after',
  'proxy CPU s',
  'ops/CPU-s',
];
const lines = [
  `| ${head.join(' | ')} |`,
  `|${head.map(() => '---').join('|')}|`,
  ...results.map((r) => `| ${row(r).join(' | ')} |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
for (const r of results)
  if (r.after.reasons !== null) process.stdout.write(`${r.name} close reasons: ${JSON.stringify(r.after.reasons)}\n`);
const sl = results.find((r) => r.name === 'sightline');
const nv = results.find((r) => r.name === 'naive');
if (sl !== undefined && nv !== undefined) {
  const warmRss = sl.warm?.rssKb ?? sl.base.rssKb;
  const checks = {
    'no mismatches': mismatches(sl) === 0,
    'failures <= 1.5x forwarder': failures(sl) <= Math.max(1.5 * failures(nv), 0),
    'fds+records recovered within 10 s': sl.recoveredMs !== null,
    'RSS within 20 % of post-warm-up': Math.abs(sl.after.rssKb - warmRss) <= 0.2 * warmRss,
  };
  process.stdout.write(`failures: sightline ${failures(sl)}, forwarder ${failures(nv)}\n`);
  for (const [k, v] of Object.entries(checks)) process.stdout.write(`${v ? 'PASS' : 'FAIL'} ${k}\n`);
}
if (a.json) fs.writeFileSync(a.json, JSON.stringify({ args: a, results }, null, 2));
process.exit(0);
