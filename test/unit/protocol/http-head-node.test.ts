// parseRequestHead cross-checked against node:http's own parser on a real socket.
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { msg, req, H } from '../../helpers/http-head.js';

/** Requests checked against Node's llhttp-based server (default, non-insecure parser). */
const body = (head: Buffer, b: string): Buffer => Buffer.concat([head, Buffer.from(b)]);
const NODE_CASES: Array<{ name: string; raw: Buffer; ours: 'accept' | 'reject'; node: 'accept' | 'reject' | 'skip' }> =
  [
    { name: 'GET', raw: msg('GET / HTTP/1.1', H), ours: 'accept', node: 'accept' },
    {
      name: 'POST Content-Length',
      raw: body(msg('POST / HTTP/1.1', H, 'Content-Length: 5'), 'hello'),
      ours: 'accept',
      node: 'accept',
    },
    {
      name: 'POST chunked',
      raw: body(msg('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked'), '5;a=b\r\nhello\r\n0\r\n\r\n'),
      ours: 'accept',
      node: 'accept',
    },
    {
      name: 'POST gzip, chunked',
      raw: body(msg('POST / HTTP/1.1', H, 'Transfer-Encoding: gzip, chunked'), '0\r\n\r\n'),
      ours: 'accept',
      node: 'accept',
    },
    { name: 'HTTP/1.0 without Host', raw: msg('GET / HTTP/1.0'), ours: 'accept', node: 'accept' },
    {
      name: 'leading CRLF',
      raw: body(Buffer.from('\r\n'), msg('GET / HTTP/1.1', H).toString()),
      ours: 'accept',
      node: 'accept',
    },
    { name: 'OPTIONS *', raw: msg('OPTIONS * HTTP/1.1', H), ours: 'accept', node: 'accept' },
    { name: 'absolute-form', raw: msg('GET http://a.test/x HTTP/1.1', H), ours: 'accept', node: 'accept' },
    {
      name: 'CL + TE',
      raw: body(msg('POST / HTTP/1.1', H, 'Content-Length: 5', 'Transfer-Encoding: chunked'), '0\r\n\r\n'),
      ours: 'reject',
      node: 'reject',
    },
    // Node stricter: it rejects repeated identical Content-Length values, which RFC 9110 §8.6 lets us accept.
    {
      name: 'same CL twice',
      raw: body(msg('POST / HTTP/1.1', H, 'Content-Length: 5', 'Content-Length: 5'), 'hello'),
      ours: 'accept',
      node: 'skip',
    },
    {
      name: 'TE + CL',
      raw: body(msg('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', 'Content-Length: 5'), '0\r\n\r\n'),
      ours: 'reject',
      node: 'reject',
    },
    {
      name: 'differing CL',
      raw: body(msg('POST / HTTP/1.1', H, 'Content-Length: 5', 'Content-Length: 6'), 'hello!'),
      ours: 'reject',
      node: 'reject',
    },
    {
      name: 'CL list 5, 6',
      raw: body(msg('POST / HTTP/1.1', H, 'Content-Length: 5, 6'), 'hello!'),
      ours: 'reject',
      node: 'reject',
    },
    {
      name: 'CL non-digit',
      raw: body(msg('POST / HTTP/1.1', H, 'Content-Length: 5a'), 'hello'),
      ours: 'reject',
      node: 'reject',
    },
    {
      name: 'TE chunked, gzip',
      raw: body(msg('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked, gzip'), '0\r\n\r\n'),
      ours: 'reject',
      node: 'reject',
    },
    {
      name: 'TE xchunked',
      raw: body(msg('POST / HTTP/1.1', H, 'Transfer-Encoding: xchunked'), '0\r\n\r\n'),
      ours: 'reject',
      node: 'reject',
    },
    { name: 'space before colon', raw: msg('GET / HTTP/1.1', H, 'X-A : b'), ours: 'reject', node: 'reject' },
    { name: 'obs-fold', raw: msg('GET / HTTP/1.1', H, 'X-A: b', ' c'), ours: 'reject', node: 'reject' },
    { name: 'bare LF', raw: Buffer.from('GET / HTTP/1.1\nHost: a.test\n\n'), ours: 'reject', node: 'reject' },
    { name: 'NUL in value', raw: msg('GET / HTTP/1.1', H, 'X-A: b\0c'), ours: 'reject', node: 'reject' },
    { name: 'target with space', raw: msg('GET /a b HTTP/1.1', H), ours: 'reject', node: 'reject' },
    { name: 'invalid method', raw: msg('G(T / HTTP/1.1', H), ours: 'reject', node: 'reject' },
    // Node more lenient: it answers 200 to an "HTTP/2.0" request line (we say 505).
    { name: 'HTTP/2.0', raw: msg('GET / HTTP/2.0', H), ours: 'reject', node: 'skip' },
    { name: '1.1 without Host', raw: msg('GET / HTTP/1.1'), ours: 'reject', node: 'reject' },
    // Node more lenient: it accepts two Host headers (keeps the first).
    { name: 'two Hosts', raw: msg('GET / HTTP/1.1', H, 'Host: b.test'), ours: 'reject', node: 'skip' },
    // Node more lenient: it decodes chunked in an HTTP/1.0 request (RFC 9112 §6.1 says faulty framing).
    {
      name: 'TE in HTTP/1.0',
      raw: body(msg('POST / HTTP/1.0', 'Transfer-Encoding: chunked'), '0\r\n\r\n'),
      ours: 'reject',
      node: 'skip',
    },
  ];

describe('cross-check against node:http', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer(
      (rq, rs) => void rq.on('end', () => rs.writeHead(200, { connection: 'close' }).end('ok')).resume(),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** First final status Node answers with; 0 when it closes or stays silent. */
  const nodeStatus = (raw: Buffer): Promise<number> =>
    new Promise((resolve) => {
      const sock = connect(port, '127.0.0.1');
      let seen = '';
      const finish = (n: number): void => void (clearTimeout(timer), sock.destroy(), resolve(n));
      const timer = setTimeout(() => finish(0), 2000);
      sock.on('data', (d: Buffer) => {
        seen += d.toString('latin1');
        const m = /HTTP\/1\.[01] ([2-5][0-9]{2})/.exec(seen);
        if (m) finish(Number(m[1]));
      });
      sock.on('error', () => finish(0));
      sock.on('close', () => finish(0));
      sock.write(raw);
    });

  it.each(NODE_CASES)('$name', async ({ raw, ours, node }) => {
    expect(req(raw).status).toBe(ours === 'accept' ? 'done' : 'error');
    if (node === 'skip') return;
    const status = await nodeStatus(raw);
    if (node === 'accept') expect(status).toBe(200);
    else expect(status).toBeGreaterThanOrEqual(400);
  });
});
