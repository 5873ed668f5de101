// Demo traffic for the compose stack (docker-compose.yml, service `demo-client`): plain Node.js,
// no dependencies. A gentle, bounded mix so that every dashboard row, trace view and log query
// has something to show:
//
//   - HTTP requests through route http-echo (RATE per second, default 2): mostly 200s, some slow
//     ones, some 503/404 answered by the backend;
//   - long-lived TCP connections through route tcp-echo (at most MAX_TCP open, default 20) that
//     chat now and then and end after 5-90 s, mostly with FIN, a few with RST;
//   - with PATTERN=1 (default), one TCP connection in four is idle and cut by the client at 30 s
//     of age, like a load balancer's idle timer: the disconnect-pattern detector should name it;
//   - every 15 s a connection to route broken-backend, whose backend refuses: an abnormal close,
//     always traced (the exemplar -> Tempo demo).
//
// Runs until stopped (SIGTERM), or for DURATION_S seconds when set. Prints a summary a minute.
import http from 'node:http';
import net from 'node:net';

const env = (k, d) => process.env[k] ?? d;
const HOST = env('TARGET_HOST', 'sightline');
const HTTP_PORT = Number(env('HTTP_PORT', 8080));
const TCP_PORT = Number(env('TCP_PORT', 8443));
const BROKEN_PORT = Number(env('BROKEN_PORT', 8444));
const RATE = Math.min(Math.max(Number(env('RATE', 2)) || 0, 0), 50);
const MAX_TCP = Math.min(Math.max(Number(env('MAX_TCP', 20)) || 0, 0), 500);
const PATTERN = env('PATTERN', '1') !== '0';
const DURATION_S = Number(env('DURATION_S', 0)) || 0;
const SUMMARY_MS = Number(env('SUMMARY_MS', 60_000)) || 60_000;

const stats = {
  http: 0,
  httpErrors: 0,
  status: {},
  tcpOpened: 0,
  tcpErrors: 0,
  tcpClosedFin: 0,
  tcpClosedRst: 0,
  tcpCut30s: 0,
  broken: 0,
};
const timers = new Set();
const sockets = new Set();
let stopping = false;

const log = (msg, fields = {}) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);
const every = (ms, fn) => timers.add(setInterval(fn, ms));
const later = (ms, fn) => {
  const t = setTimeout(() => {
    timers.delete(t);
    fn();
  }, ms);
  timers.add(t);
  return t;
};
const pick = (weighted) => {
  let r = Math.random() * weighted.reduce((s, [w]) => s + w, 0);
  for (const [w, v] of weighted) if ((r -= w) < 0) return v;
  return weighted[0][1];
};

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
function oneRequest() {
  const path = pick([
    [80, '/hello'],
    [10, `/slow?ms=${Math.floor(Math.random() * 1500)}`],
    [7, '/status/503'],
    [3, '/status/404'],
  ]);
  const req = http.get({ host: HOST, port: HTTP_PORT, path, agent, timeout: 15_000 }, (res) => {
    stats.http++;
    stats.status[res.statusCode] = (stats.status[res.statusCode] ?? 0) + 1;
    res.resume();
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => stats.httpErrors++);
}

function oneConnection() {
  if (sockets.size >= MAX_TCP) return;
  const lb = PATTERN && Math.random() < 0.25;
  const s = net.connect({ host: HOST, port: TCP_PORT });
  sockets.add(s);
  stats.tcpOpened++;
  s.setNoDelay(true);
  s.on('data', () => {});
  s.on('error', () => stats.tcpErrors++);
  s.on('close', () => sockets.delete(s));
  if (lb) {
    // Idle from the greeting on, cut at 30 s of age: a load balancer's idle timer.
    later(30_000, () => {
      stats.tcpCut30s++;
      s.destroy();
    });
    return;
  }
  const chat = setInterval(() => s.writable && s.write(`ping ${Date.now()}\n`), 2_000 + Math.random() * 8_000);
  timers.add(chat);
  later(5_000 + Math.random() * 85_000, () => {
    clearInterval(chat);
    timers.delete(chat);
    if (Math.random() < 0.1 && typeof s.resetAndDestroy === 'function') {
      stats.tcpClosedRst++;
      s.resetAndDestroy();
    } else {
      stats.tcpClosedFin++;
      s.end();
    }
  });
}

function brokenConnection() {
  const s = net.connect({ host: HOST, port: BROKEN_PORT });
  stats.broken++;
  s.on('error', () => {});
  s.on('data', () => {});
  later(3_000, () => s.destroy());
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const t of timers) clearTimeout(t);
  for (const s of sockets) s.destroy();
  agent.destroy();
  log('demo client stopped', stats);
  setTimeout(() => process.exit(code), 200).unref();
}

log('demo client starting', {
  target: HOST,
  httpPort: HTTP_PORT,
  tcpPort: TCP_PORT,
  brokenPort: BROKEN_PORT,
  rate: RATE,
  maxTcp: MAX_TCP,
  pattern: PATTERN,
});
if (RATE > 0) every(Math.round(1000 / RATE), oneRequest);
if (MAX_TCP > 0) every(2_000, oneConnection);
every(15_000, brokenConnection);
every(SUMMARY_MS, () => log('demo client summary', { ...stats, tcpOpen: sockets.size }));
if (DURATION_S > 0) later(DURATION_S * 1000, () => stop(0));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => stop(0));
