// Run inside a fresh user + network namespace (`unshare -Urn node keepalive-netns.mjs`), where
// this process may change routes: a real TCP keep-alive probe timeout on both sides of a proxy.
//
// A client connects from 127.0.0.2 through route `cl`; route `be` forwards to a backend on
// 127.0.0.3. Once both tunnels carried bytes, 127.0.0.2 and 127.0.0.3 are blackholed: the proxy's
// keep-alive probes to the client on `cl` and to the backend on `be` get no answer, and after
// keepAliveInitialDelay + the probes (libuv: 1 s apart, 10 of them) the kernel reports ETIMEDOUT.
// Prints one JSON line per close event, then exits.
import diagnostics from 'node:diagnostics_channel';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const { SightlineProxy } = await import(pathToFileURL(path.resolve('dist/server.js')).href);
const ip = (...args) => execFileSync('ip', args, { stdio: 'ignore' });
ip('link', 'set', 'lo', 'up');

const listen = (host) =>
  new Promise((resolve) => {
    const srv = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s).on('error', () => {}));
    srv.listen(0, host, () => resolve(srv.address().port));
  });
const echoLocal = await listen('127.0.0.1');
const echoFar = await listen('127.0.0.3');
// A fresh namespace: every port is free.
const [clPort, bePort] = [40001, 40002];
const proxy = new SightlineProxy(
  {
    listenHost: '127.0.0.1',
    admin: { enabled: false },
    keepAliveInitialDelay: 1000,
    gracefulShutdownTimeout: 100,
    routes: [
      {
        name: 'cl',
        match: { ports: clPort },
        action: { type: 'forward', target: { host: '127.0.0.1', port: echoLocal } },
      },
      {
        name: 'be',
        match: { ports: bePort },
        action: { type: 'forward', target: { host: '127.0.0.3', port: echoFar } },
      },
    ],
  },
  { logger: null },
);
const closes = [];
diagnostics.subscribe('sightline:connection:close', (e) => {
  closes.push({
    route: e.conn.routeName,
    reason: e.reason,
    initiator: e.initiator,
    error: e.error,
    endKind: e.endKind,
  });
  console.log(JSON.stringify(closes.at(-1)));
  if (closes.length === 2) void proxy.stop().then(() => process.exit(0));
});
await proxy.start();

const roundTrip = (port, localAddress) =>
  new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    s.on('error', () => {});
    s.once('connect', () => s.write('ping'));
    s.once('data', () => resolve(s));
    setTimeout(() => reject(new Error(`no echo on ${port}`)), 5000);
  });
const keep = [await roundTrip(clPort, '127.0.0.2'), await roundTrip(bePort, '127.0.0.1')];
// Keep the loopback address itself local; everything else of 127/8 goes nowhere.
try {
  ip('route', 'del', 'local', '127.0.0.0/8', 'dev', 'lo', 'table', 'local');
} catch {
  /* absent on some kernels */
}
ip('route', 'add', 'blackhole', '127.0.0.2/32', 'table', 'local');
ip('route', 'add', 'blackhole', '127.0.0.3/32', 'table', 'local');
console.log(JSON.stringify({ blackholed: true, open: keep.length }));
setTimeout(() => {
  console.log(JSON.stringify({ timeout: true }));
  process.exit(1);
}, 40_000);
