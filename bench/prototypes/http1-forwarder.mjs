// Prototype (not product code, not wired into Sightline; issue 4 groundwork): HTTP/1.1 keep-alive forwarder built on Sightline's head parser
// and framers, to measure the approach against the naive http.request proxy. One upstream
// connection per client connection; request heads rebuilt with X-Forwarded-For and hop-by-hop
// headers stripped; bodies and responses forwarded by framing, without copying.
// Usage: node --initial-old-space-size=64 bench/prototypes/http1-forwarder.mjs LISTEN_PORT TARGET_PORT
// Measured 2026-11-21 with ../shared/bench http_rps (3 reps, one run): 31.0k req/s against the naive
// http.request proxy's 14.2k (2.19x), HAProxy 59.8k (0.52x), nginx 62.2k.
import net from 'node:net';
import { parseRequestHead, parseResponseHead, hopByHopFor } from '../../dist/protocol/http-head.js';
import { LengthFramer, ChunkedFramer } from '../../dist/protocol/chunked.js';

const [listen, target] = process.argv.slice(2).map(Number);
const LIM = { maxHeaderBytes: 16384, maxHeaderCount: 100 };

function rebuild(head, clientIp) {
  const hop = hopByHopFor(head.headers);
  let s = `${head.method} ${head.target} HTTP/1.1\r\n`;
  for (const [n, v] of head.headers) if (!hop.has(n.toLowerCase())) s += `${n}: ${v}\r\n`;
  s += `X-Forwarded-For: ${clientIp}\r\nConnection: keep-alive\r\n`;
  if (head.chunked) s += 'Transfer-Encoding: chunked\r\n';
  return Buffer.from(s + '\r\n', 'latin1');
}

net.createServer({ noDelay: true }, (c) => {
  const u = net.connect({ host: '127.0.0.1', port: target, noDelay: true });
  const ip = c.remoteAddress;
  let cbuf = null, ubuf = null, reqBody = null, resBody = null, method = 'GET';
  const pending = []; // methods of requests awaiting responses
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
  c.on('close', () => u.destroy()); u.on('close', () => c.destroy());
  c.on('data', (chunk) => {
    let buf = cbuf ? Buffer.concat([cbuf, chunk]) : chunk; cbuf = null;
    while (buf.length > 0) {
      if (reqBody) {
        const r = reqBody.push(buf);
        u.write(buf.subarray(0, r.consumed)); buf = buf.subarray(r.consumed);
        if (r.done) reqBody = null; else return;
        continue;
      }
      const r = parseRequestHead(buf, LIM);
      if (r.status === 'need-more') { cbuf = buf; return; }
      if (r.status === 'error') { c.end(`HTTP/1.1 ${r.httpStatus} Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`); return; }
      const h = r.head;
      u.write(rebuild(h, ip));
      pending.push(h.method);
      buf = buf.subarray(h.headerBytes);
      if (h.chunked) reqBody = new ChunkedFramer(); else if (h.contentLength) reqBody = new LengthFramer(h.contentLength);
    }
  });
  u.on('data', (chunk) => {
    let buf = ubuf ? Buffer.concat([ubuf, chunk]) : chunk; ubuf = null;
    while (buf.length > 0) {
      if (resBody) {
        const r = resBody.push(buf);
        c.write(buf.subarray(0, r.consumed)); buf = buf.subarray(r.consumed);
        if (r.done) resBody = null; else return;
        continue;
      }
      method = pending[0] ?? 'GET';
      const r = parseResponseHead(buf, LIM, method);
      if (r.status === 'need-more') { ubuf = buf; return; }
      if (r.status === 'error') { c.destroy(); return; }
      pending.shift();
      const h = r.head;
      c.write(buf.subarray(0, h.headerBytes)); // response head passed through as is (prototype)
      buf = buf.subarray(h.headerBytes);
      if (h.chunked) resBody = new ChunkedFramer(); else if (h.contentLength) resBody = new LengthFramer(h.contentLength);
    }
  });
}).listen(listen, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
