#!/usr/bin/env node
// Cost of one lifecycle sweep (sample byte counters + every lifecycle rule) over N live proxied
// connections, in the proxy's own process, against a baseline measured in the same run: a bare
// loop over the same registry that touches nothing. Issue 3 target: well under 1 ms at 10 000.
//
//   node bench/sweep-cost.mjs [--n 9900] [--ticks 300]
import { fork } from 'node:child_process';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { SightlineProxy } from '../dist/index.js';

const { values: a } = parseArgs({
  options: { n: { type: 'string', default: '9900' }, ticks: { type: 'string', default: '300' } },
});
const N = Number(a.n);
const TICKS = Number(a.ticks);

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

const [proxyPort, backendPort] = [await freePort(), await freePort()];
const proxy = new SightlineProxy(
  {
    listenHost: '127.0.0.1',
    maxConnectionsPerIP: 0,
    connectionRateLimitPerMinute: 0,
    defaults: { security: { maxConnections: 0 } },
    telemetry: { logging: { level: 'silent' } },
    routes: [
      {
        name: 'sweep',
        match: { ports: proxyPort },
        action: { type: 'forward', target: { host: '127.0.0.1', port: backendPort } },
      },
    ],
  },
  { autoTick: false },
);
await proxy.start();

const peers = fork(fileURLToPath(new URL('./hold-peers.mjs', import.meta.url)), [
  '--proxy-port',
  String(proxyPort),
  '--backend-port',
  String(backendPort),
  '--n',
  String(N),
]);
await new Promise((r) => peers.once('message', r));
peers.send({ kind: 'connect' });
const { ok } = await new Promise((r) => peers.on('message', (m) => m.kind === 'connected' && r(m)));
const live = proxy.connectionManager.getConnections().size;

function measure(fn) {
  const samples = [];
  for (let i = 0; i < 20; i++) fn(); // warm-up
  for (let i = 0; i < TICKS; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((x, y) => x - y);
  const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  return { p50: q(0.5), p99: q(0.99), max: samples[samples.length - 1] };
}

// Baseline: the same registry, iterated, nothing read.
const registryView = proxy.connectionManager.getConnections();
let sink = 0;
const base = measure(() => {
  for (const c of registryView.values()) sink += c.id & 1;
});
const full = measure(() => proxy.tick());
const tick = measure(() => proxy.sweepTick());

const fmt = (x) => x.toFixed(3);
console.log(`connections: requested ${N}, confirmed end to end ${ok}, live in the registry ${live}`);
console.log('| measure | p50 ms | p99 ms | max ms | µs per connection (p50) |');
console.log('|---|---:|---:|---:|---:|');
console.log(
  `| bare registry loop (baseline) | ${fmt(base.p50)} | ${fmt(base.p99)} | ${fmt(base.max)} | ${fmt((base.p50 * 1000) / live)} |`,
);
console.log(
  `| full pass over every connection (proxy.tick()) | ${fmt(full.p50)} | ${fmt(full.p99)} | ${fmt(full.max)} | ${fmt((full.p50 * 1000) / live)} |`,
);
console.log(
  `| one driver tick (proxy.sweepTick(), 50 ms share of a 1 s pass) | ${fmt(tick.p50)} | ${fmt(tick.p99)} | ${fmt(tick.max)} | - |`,
);
console.log(`full pass / baseline (p50): ${(full.p50 / base.p50).toFixed(1)}x`);
console.log(
  `per tick at 10 000 connections (scaled): ${fmt((tick.p50 / live) * 10_000)} ms p50, ${fmt((tick.p99 / live) * 10_000)} ms p99 (target: well under 1 ms)`,
);
peers.kill();
proxy.stop().then(() => process.exit(sink < 0 ? 1 : 0));
