// Demo backend for the compose stack (docker-compose.yml, service `demo-backend`): plain Node.js,
// no dependencies, runs on the stock node image.
//
//   TCP  :9000  greets each connection and echoes what it is sent (route tcp-echo)
//   HTTP :8080  echoes the request as JSON, including the traceparent Sightline injected
//               (route http-echo); /status/NNN answers NNN, /slow?ms=N waits N ms (<= 10 s),
//               /healthz answers ok; POST /alertmanager is Alertmanager's demo webhook: each
//               delivery is printed to stdout (`docker compose logs demo-backend`).
//
// Nothing listens on :9999: route broken-backend points there to produce connect failures.
import http from 'node:http';
import net from 'node:net';

const HOST = process.env.HOST ?? '0.0.0.0';
const TCP_PORT = Number(process.env.TCP_PORT ?? 9000);
const HTTP_PORT = Number(process.env.HTTP_PORT ?? 8080);

const log = (msg, fields = {}) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);

const tcp = net.createServer({ allowHalfOpen: true }, (s) => {
  s.on('error', () => {});
  s.write('hello from the sightline demo backend; type something and it comes back\n');
  s.pipe(s);
});

function readBody(req, limit = 1 << 20) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function send(res, status, body, type = 'application/json') {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const web = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://demo-backend');
  const body = await readBody(req);
  if (req.method === 'POST' && url.pathname === '/alertmanager') {
    try {
      const n = JSON.parse(body);
      log('alertmanager webhook', {
        status: n.status,
        receiver: n.receiver,
        alerts: (n.alerts ?? []).map(
          (a) =>
            `${a.labels?.alertname ?? '?'}{severity=${a.labels?.severity ?? '?'},route=${a.labels?.route ?? ''}} ${a.status}`,
        ),
      });
    } catch {
      log('alertmanager webhook: body is not JSON', { bytes: body.length });
    }
    return send(res, 200, { ok: true });
  }
  if (url.pathname === '/healthz') return send(res, 200, 'ok\n', 'text/plain');
  const m = /^\/status\/(\d{3})$/.exec(url.pathname);
  if (m) {
    const code = Number(m[1]);
    return send(res, code >= 100 && code <= 599 ? code : 400, { status: code });
  }
  if (url.pathname === '/slow') {
    const ms = Math.min(Math.max(Number(url.searchParams.get('ms') ?? 500) || 0, 0), 10_000);
    await new Promise((r) => setTimeout(r, ms));
  }
  send(res, 200, {
    method: req.method,
    path: url.pathname,
    traceparent: req.headers.traceparent ?? null,
    forwardedFor: req.headers['x-forwarded-for'] ?? null,
    bytes: body.length,
  });
});
web.keepAliveTimeout = 5_000;

tcp.listen(TCP_PORT, HOST, () => log('tcp echo listening', { port: TCP_PORT }));
web.listen(HTTP_PORT, HOST, () => log('http echo listening', { port: HTTP_PORT }));

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    tcp.close();
    web.close();
    web.closeAllConnections?.();
    setTimeout(() => process.exit(0), 1_000).unref();
  });
}
