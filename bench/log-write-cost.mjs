#!/usr/bin/env node
// CPU cost of writing access-log lines to a file with pino, by destination setting: what the
// telemetry-cost profile points at (one fs.write per line with pino.destination({sync: false})).
//
//   node bench/log-write-cost.mjs [--rate 2000] [--seconds 4] [--reps 3] [--dir /tmp]
//
// For each configuration, a fresh child process logs a Sightline-like access line (same fields
// as src/telemetry/logger.ts) at --rate lines/s (in 1 ms ticks) for --seconds, and reports its
// CPU (user+system over all its threads, so libuv's fs threads count too) per line, and the
// number of write(2) calls (counted by wrapping fs.write/fs.writeSync).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const CONFIGS = {
  'sync:false minLength:0 (current)': { sync: false, minLength: 0 },
  'sync:false minLength:4096': { sync: false, minLength: 4096 },
  'sync:false minLength:8192': { sync: false, minLength: 8192 },
  'sync:true': { sync: true, minLength: 0 },
  'serialize only (no-op stream)': { noop: true },
  'no logging (level silent)': { silent: true },
};

if (process.env.LOG_COST_CHILD) {
  const cfg = JSON.parse(process.env.LOG_COST_CHILD);
  const require = (await import('node:module')).createRequire(
    path.join(fileURLToPath(import.meta.url), '../../package.json'),
  );
  const realFs = require('fs');
  let writes = 0;
  for (const k of ['write', 'writeSync']) {
    const orig = realFs[k];
    realFs[k] = function (...args) {
      writes++;
      return orig.apply(this, args);
    };
  }
  const pino = require('pino');
  const dest = cfg.silent
    ? null
    : cfg.noop
      ? { write() {}, flushSync() {} }
      : pino.destination({ dest: cfg.file, sync: cfg.sync, minLength: cfg.minLength, mkdir: true });
  const logger = pino({ level: cfg.silent ? 'silent' : 'info', base: { service: 'sightline' } }, dest ?? undefined);
  const perTick = cfg.rate / 1000;
  const end = Date.now() + cfg.seconds * 1000;
  let n = 0;
  let carry = 0;
  const c0 = process.cpuUsage();
  const line = (i) => ({
    event: 'access',
    connectionId: i,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    route: 'sni-localhost',
    client: '127.0.0.1',
    clientPort: 40000 + (i % 20000),
    port: 8443,
    sni: 'localhost',
    target: '127.0.0.1:9443',
    mode: 'passthrough',
    tls: true,
    durationMs: 3.2,
    idleAtCloseMs: 0.4,
    bytesIn: 517,
    bytesOut: 1490,
    reason: 'client_fin',
    initiator: 'client',
    firstSide: 'client',
    endKind: 'fin',
    phase: 'streaming',
    treatment: 'none',
    error: undefined,
  });
  await new Promise((resolve) => {
    const t = setInterval(() => {
      carry += perTick;
      while (carry >= 1) {
        logger.info(line(n++), 'connection closed');
        carry--;
      }
      if (Date.now() >= end) {
        clearInterval(t);
        resolve();
      }
    }, 1);
  });
  if (dest) dest.flushSync();
  const c = process.cpuUsage(c0);
  process.stdout.write(JSON.stringify({ lines: n, cpu_us: c.user + c.system, writes }) + '\n');
  process.exit(0);
}

const { values: a } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '4' },
    reps: { type: 'string', default: '3' },
    dir: { type: 'string', default: os.tmpdir() },
  },
});
const dir = fs.mkdtempSync(path.join(a.dir, 'log-write-cost-'));
const rows = Object.keys(CONFIGS).map((name) => ({ name, us: [], writes: 0, lines: 0 }));
for (let rep = 0; rep < Number(a.reps); rep++) {
  for (const row of rows) {
    const file = path.join(dir, `${rows.indexOf(row)}.log`);
    fs.rmSync(file, { force: true });
    const cfg = { ...CONFIGS[row.name], file, rate: Number(a.rate), seconds: Number(a.seconds) };
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, LOG_COST_CHILD: JSON.stringify(cfg) },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`${row.name}: ${r.stderr}`);
    const j = JSON.parse(r.stdout.trim().split('\n').pop());
    row.us.push(j.cpu_us / j.lines);
    row.writes = j.writes;
    row.lines = j.lines;
  }
}
fs.rmSync(dir, { recursive: true, force: true });
const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
const base = med(rows.at(-1).us);
process.stdout.write(
  `pino ${a.rate} lines/s for ${a.seconds} s, ${a.reps} reps (median; CPU of the whole process incl. fs threads)\n\n`,
);
process.stdout.write(
  '| destination | CPU µs per line (process) | minus no-logging baseline | write calls per 1000 lines |\n|---|---:|---:|---:|\n',
);
for (const r of rows) {
  const m = med(r.us);
  process.stdout.write(
    `| ${r.name} | ${m.toFixed(1)} | ${(m - base).toFixed(1)} | ${((1000 * r.writes) / r.lines).toFixed(0)} |\n`,
  );
}
