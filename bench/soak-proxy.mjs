#!/usr/bin/env node
// One proxy under soak (started by bench/soak.mjs with an IPC channel):
//
//   node bench/soak-proxy.mjs sightline LISTEN_PORT TARGET_PORT   SightlineProxy from ../dist, one
//                                                                plain-TCP route, limits off
//   node bench/soak-proxy.mjs naive     LISTEN_PORT TARGET_PORT   the naive Node forwarder:
//                                                                net.createServer + pipe() both ways
//
// On {type: 'stats'} it answers {records, fds, rssKb, cpuMs}: records = connection records open
// (Sightline's registry; the forwarder's own set of client sockets), fds = entries of /proc/self/fd.
// Loopback only. Exits on 'disconnect' (the soak ended or died).
import fs from 'node:fs';
import net from 'node:net';

const [kind, listenArg, targetArg] = process.argv.slice(2);
const listenPort = Number(listenArg);
const targetPort = Number(targetArg);
const HOST = '127.0.0.1';

const fds = () => {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
};
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

let records = () => 0;
let reasons = () => null;
let stop = async () => {};

if (kind === 'sightline') {
  const { SightlineProxy } = await import('../dist/index.js');
  const proxy = new SightlineProxy({
    listenHost: HOST,
    routes: [
      {
        name: 'soak',
        match: { ports: listenPort },
        action: { type: 'forward', target: { host: HOST, port: targetPort } },
      },
    ],
    // Limits off: 1000 clients from one address, far more than 300 a minute.
    maxConnectionsPerIP: 0,
    connectionRateLimitPerMinute: 0,
    gracefulShutdownTimeout: 500,
    defaults: { security: { maxConnections: 0 } },
    admin: { enabled: false },
    // SOAK_TELEMETRY=default: the library's defaults (metrics, patterns, info logs on stdout).
    ...(process.env.SOAK_TELEMETRY === 'default'
      ? {}
      : { telemetry: { metrics: { enabled: false }, tracing: { enabled: false }, logging: { level: 'silent' } } }),
  });
  await proxy.start();
  records = () => proxy.getStats().getActiveConnections();
  reasons = () => proxy.getStats().getTerminationStats().byReason;
  stop = () => proxy.stop();
} else if (kind === 'naive') {
  // The naive floor, as the shared harness's node-naive.mjs l4 mode (no dependency on it).
  const open = new Set();
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (c) => {
    open.add(c);
    c.on('close', () => open.delete(c));
    c.pause();
    const u = net.connect({ host: HOST, port: targetPort, noDelay: true, allowHalfOpen: true });
    u.once('connect', () => {
      c.on('close', () => u.destroy());
      u.on('close', () => c.destroy());
      c.pipe(u);
      u.pipe(c);
    });
    u.on('error', () => c.destroy());
    c.on('error', () => u.destroy());
  });
  server.on('error', (e) => {
    process.stderr.write(`naive: ${e.code ?? e.message}\n`);
  });
  await new Promise((r) => server.listen({ port: listenPort, host: HOST, backlog: 4096 }, r));
  records = () => open.size;
  stop = () => new Promise((r) => server.close(() => r()));
} else {
  process.stderr.write('usage: soak-proxy.mjs sightline|naive LISTEN_PORT TARGET_PORT\n');
  process.exit(2);
}

process.on('message', (m) => {
  if (m?.type === 'stats')
    process.send({
      type: 'stats',
      records: records(),
      fds: fds(),
      rssKb: Math.round(process.memoryUsage.rss() / 1024),
      cpuMs: cpuMs(),
      reasons: reasons(),
    });
  else if (m?.type === 'stop') void stop().then(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
