// Run context: temp dir, certs, fd limit, the knobs every workload reads.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { log } from './util.mjs';

// The harness's own files (proxies/, servers/, clients/, wrk/) sit beside this module in bench/lib;
// results go to bench/results.
export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = path.resolve(BENCH_DIR, '..', 'results');

export function nofileLimit() {
  // run.sh raises the soft limit to the hard limit before starting node;
  // children inherit it. Read it back from /proc so we know what we got.
  try {
    const l = fs
      .readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((x) => x.startsWith('Max open files'));
    const [, soft, hard] = /Max open files\s+(\S+)\s+(\S+)/.exec(l);
    return { soft: Number(soft) || 1024, hard: Number(hard) || 1024 };
  } catch {
    return { soft: 1024, hard: 1024 };
  }
}

// Self-signed ECDSA P-256 certificate for "localhost" (+ the decoy SNI names).
export function makeCerts(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const cert = path.join(dir, 'cert.pem'),
    key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '3650',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,DNS:alt.bench.test,DNS:other.bench.test,IP:127.0.0.1',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { cert, key, ca: cert };
}

export function makeContext(opts = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proxybench-'));
  const lim = nofileLimit();
  const ctx = {
    tmp,
    benchDir: BENCH_DIR,
    certs: makeCerts(path.join(tmp, 'certs')),
    nofile: lim.soft,
    nofileHard: lim.hard,
    workers: Number(opts.workers ?? 1),
    reps: Number(opts.reps ?? 3),
    settleMs: Number(opts.settleMs ?? 300),
    wrkThreads: Number(opts.wrkThreads ?? 1),
    opts,
  };
  if (lim.soft < 4096)
    log(`warning: open-files limit is ${lim.soft}; run through bash bench/run.sh (raises ulimit -n)`);
  return ctx;
}

export function cleanupContext(ctx) {
  if (ctx.cleaned) return;
  ctx.cleaned = true;
  if (ctx.opts.keep) {
    log(`kept temp dir ${ctx.tmp}`);
    return;
  }
  try {
    fs.rmSync(ctx.tmp, { recursive: true, force: true });
  } catch {}
}
