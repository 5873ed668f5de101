import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import {
  HOP_BY_HOP,
  isHopByHop,
  parseRequestHead,
  parseResponseHead,
  type HeadLimits,
  type HeadResult,
  type RequestHead,
  type ResponseHead,
} from '../../../src/protocol/http-head.js';
import { ChunkedFramer } from '../../../src/protocol/chunked.js';

const LIMITS: HeadLimits = { maxHeaderBytes: 16384, maxHeaderCount: 100 };

/** Lines joined with CRLF and ended by the empty line. */
const msg = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
const req = (buf: Buffer): HeadResult<RequestHead> => parseRequestHead(buf, LIMITS);
const res = (buf: Buffer, method = 'GET'): HeadResult<ResponseHead> => parseResponseHead(buf, LIMITS, method);

function done<T>(r: HeadResult<T>): T {
  if (r.status !== 'done') throw new Error(`expected done, got ${JSON.stringify(r)}`);
  return r.head;
}
const doneReq = (buf: Buffer): RequestHead => done(req(buf));
const doneRes = (buf: Buffer, method = 'GET'): ResponseHead => done(res(buf, method));

type Reject = readonly [name: string, raw: Buffer, code: string, httpStatus: number];
const H = 'Host: a.test';

const REQUEST_REJECTS: Reject[] = [
  ['CL + TE', msg('POST / HTTP/1.1', H, 'Content-Length: 5', 'Transfer-Encoding: chunked'), 'smuggling', 400],
  ['TE + CL', msg('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', 'Content-Length: 5'), 'smuggling', 400],
  ['two differing CL', msg('POST / HTTP/1.1', H, 'Content-Length: 5', 'Content-Length: 6'), 'smuggling', 400],
  ['CL list 5, 6', msg('POST / HTTP/1.1', H, 'Content-Length: 5, 6'), 'smuggling', 400],
  ['CL non-digit', msg('POST / HTTP/1.1', H, 'Content-Length: 5a'), 'bad-request', 400],
  ['CL signed', msg('POST / HTTP/1.1', H, 'Content-Length: +5'), 'bad-request', 400],
  ['CL negative', msg('POST / HTTP/1.1', H, 'Content-Length: -1'), 'bad-request', 400],
  ['CL hex', msg('POST / HTTP/1.1', H, 'Content-Length: 0x5'), 'bad-request', 400],
  ['CL empty', msg('POST / HTTP/1.1', H, 'Content-Length: '), 'bad-request', 400],
  ['CL over 2^53', msg('POST / HTTP/1.1', H, 'Content-Length: 99999999999999999999'), 'bad-request', 400],
  ['TE chunked, gzip', msg('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked, gzip'), 'smuggling', 400],
  ['TE xchunked', msg('POST / HTTP/1.1', H, 'Transfer-Encoding: xchunked'), 'smuggling', 400],
  ['TE gzip only', msg('POST / HTTP/1.1', H, 'Transfer-Encoding: gzip'), 'smuggling', 400],
  ['TE chunked twice', msg('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked, chunked'), 'smuggling', 400],
  ['TE chunked;param', msg('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked;x=1'), 'smuggling', 400],
  ['TE split headers, gzip last', msg('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip'), 'smuggling', 400],
  ['TE empty', msg('POST / HTTP/1.1', H, 'Transfer-Encoding: '), 'bad-request', 400],
  ['TE not a token', msg('POST / HTTP/1.1', H, 'Transfer-Encoding: "chunked"'), 'bad-request', 400],
  ['TE in HTTP/1.0', msg('POST / HTTP/1.0', 'Transfer-Encoding: chunked'), 'smuggling', 400],
  ['space before colon', msg('GET / HTTP/1.1', 'Host : a.test'), 'bad-request', 400],
  ['tab before colon', msg('POST / HTTP/1.1', H, 'Content-Length\t: 5'), 'bad-request', 400],
  ['obs-fold SP', msg('GET / HTTP/1.1', H, 'X-A: b', ' c'), 'bad-request', 400],
  ['obs-fold HT', msg('GET / HTTP/1.1', H, 'X-A: b', '\tc'), 'bad-request', 400],
  ['bare LF everywhere', Buffer.from('GET / HTTP/1.1\nHost: a.test\n\n'), 'bad-request', 400],
  ['bare LF one header', Buffer.from('GET / HTTP/1.1\r\nHost: a.test\nX: y\r\n\r\n'), 'bad-request', 400],
  ['bare LF terminator', Buffer.from('GET / HTTP/1.1\r\nHost: a.test\r\n\n'), 'bad-request', 400],
  ['name not a token', msg('GET / HTTP/1.1', H, 'X(A): b'), 'bad-request', 400],
  ['name with space', msg('GET / HTTP/1.1', H, 'X A: b'), 'bad-request', 400],
  ['empty name', msg('GET / HTTP/1.1', H, ': b'), 'bad-request', 400],
  ['no colon', msg('GET / HTTP/1.1', H, 'X-A b'), 'bad-request', 400],
  ['NUL in value', msg('GET / HTTP/1.1', H, 'X-A: b\0c'), 'bad-request', 400],
  ['CR in value', msg('GET / HTTP/1.1', H, 'X-A: b\rc'), 'bad-request', 400],
  ['method not a token', msg('G(T / HTTP/1.1', H), 'bad-request', 400],
  ['empty method', msg(' / HTTP/1.1', H), 'bad-request', 400],
  ['target with space', msg('GET /a b HTTP/1.1', H), 'bad-request', 400],
  ['double space', msg('GET  / HTTP/1.1', H), 'bad-request', 400],
  ['target with tab', msg('GET /a\tb HTTP/1.1', H), 'bad-request', 400],
  ['target not a form', msg('GET a/b HTTP/1.1', H), 'bad-request', 400],
  ['asterisk without OPTIONS', msg('GET * HTTP/1.1', H), 'bad-request', 400],
  ['CONNECT origin-form', msg('CONNECT / HTTP/1.1', H), 'bad-request', 400],
  ['HTTP/2.0', msg('GET / HTTP/2.0', H), 'unsupported-version', 505],
  ['HTTP/1.2', msg('GET / HTTP/1.2', H), 'unsupported-version', 505],
  ['HTTP/0.9', msg('GET / HTTP/0.9', H), 'unsupported-version', 505],
  ['lowercase version', msg('GET / http/1.1', H), 'bad-request', 400],
  ['version junk', msg('GET / HTTP/1.1x', H), 'bad-request', 400],
  ['no version', msg('GET /', H), 'bad-request', 400],
  ['1.1 without Host', msg('GET / HTTP/1.1', 'X: y'), 'bad-request', 400],
  ['1.1 two Hosts', msg('GET / HTTP/1.1', H, 'Host: b.test'), 'bad-request', 400],
  ['1.0 two Hosts', msg('GET / HTTP/1.0', H, 'host: b.test'), 'bad-request', 400],
  ['Host with path', msg('GET / HTTP/1.1', 'Host: a.test/x'), 'bad-request', 400],
  ['101 headers', msg('GET / HTTP/1.1', H, ...Array.from({ length: 100 }, (_, i) => `X-${i}: v`)), 'too-many-headers', 431],
  ['head over limit', msg('GET / HTTP/1.1', H, `X: ${'a'.repeat(16384)}`), 'too-large', 431],
  ['empty request line', Buffer.from('\r\n\r\n'), 'bad-request', 400],
];

describe('parseRequestHead rejects', () => {
  it.each(REQUEST_REJECTS)('%s', (_name, raw, code, httpStatus) => {
    expect(req(raw)).toMatchObject({ status: 'error', code, httpStatus, detail: expect.stringMatching(/./) });
  });

  it('decides too-large as soon as the buffer exceeds the limit without CRLFCRLF', () => {
    const limits = { maxHeaderBytes: 64, maxHeaderCount: 100 };
    const head = Buffer.from(`GET / HTTP/1.1\r\nHost: a.test\r\nX: ${'a'.repeat(100)}`);
    expect(parseRequestHead(head.subarray(0, 64), limits).status).toBe('need-more');
    expect(parseRequestHead(head.subarray(0, 65), limits)).toMatchObject({ code: 'too-large', httpStatus: 431 });
  });

  it('rejects too many header lines before the head is complete', () => {
    const lines = ['GET / HTTP/1.1', H, ...Array.from({ length: 100 }, () => 'X: y')].join('\r\n') + '\r\n';
    expect(req(Buffer.from(lines))).toMatchObject({ code: 'too-many-headers' });
  });

  it('rejects a non-HTTP first line (TLS, binary) before the head is complete', () => {
    expect(req(Buffer.from([0x16, 0x03, 0x01, 0x02]))).toMatchObject({ code: 'bad-request' });
    expect(req(Buffer.from('GET'))).toEqual({ status: 'need-more' });
  });
});

describe('parseRequestHead accepts', () => {
  it('a plain HTTP/1.1 GET', () => {
    const raw = msg('GET /p?q=1 HTTP/1.1', 'Host: Example.COM:8080', 'User-Agent:  ua  ', 'X-Tab: a\tb', 'X-Latin: caf\xe9');
    const h = doneReq(raw);
    expect(h).toMatchObject({ method: 'GET', target: '/p?q=1', version: '1.1', host: 'example.com:8080' });
    expect(h).toMatchObject({ contentLength: 0, chunked: false, keepAlive: true, upgrade: null, expectContinue: false });
    expect(h.headerBytes).toBe(raw.length);
    expect(h.headers).toEqual([
      ['Host', 'Example.COM:8080'],
      ['User-Agent', 'ua'],
      ['X-Tab', 'a\tb'],
      ['X-Latin', 'caf\xe9'],
    ]);
  });

  it('identical duplicate Content-Length values and lists', () => {
    expect(doneReq(msg('POST / HTTP/1.1', H, 'Content-Length: 5', 'content-length: 5')).contentLength).toBe(5);
    expect(doneReq(msg('POST / HTTP/1.1', H, 'Content-Length: 5, 5')).contentLength).toBe(5);
    expect(doneReq(msg('POST / HTTP/1.1', H, 'Content-Length: 007')).contentLength).toBe(7);
    expect(doneReq(msg('POST / HTTP/1.1', H, 'Content-Length: 0')).contentLength).toBe(0);
  });

  it('chunked as the final transfer-coding, any case', () => {
    for (const te of ['chunked', 'Chunked', 'gzip, chunked', 'gzip,chunked', 'gzip;q=1, chunked']) {
      expect(doneReq(msg('POST / HTTP/1.1', H, `Transfer-Encoding: ${te}`))).toMatchObject({ chunked: true, contentLength: null });
    }
    expect(doneReq(msg('POST / HTTP/1.1', H, 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked')).chunked).toBe(true);
  });

  it('keep-alive per version and Connection', () => {
    expect(doneReq(msg('GET / HTTP/1.1', H)).keepAlive).toBe(true);
    expect(doneReq(msg('GET / HTTP/1.1', H, 'Connection: close')).keepAlive).toBe(false);
    expect(doneReq(msg('GET / HTTP/1.1', H, 'Connection: Keep-Alive, CLOSE')).keepAlive).toBe(false);
    expect(doneReq(msg('GET / HTTP/1.0')).keepAlive).toBe(false);
    expect(doneReq(msg('GET / HTTP/1.0', 'Connection: keep-alive')).keepAlive).toBe(true);
  });

  it('HTTP/1.0 without Host', () => {
    expect(doneReq(msg('GET / HTTP/1.0'))).toMatchObject({ version: '1.0', host: null });
  });

  it('upgrade only when Connection lists upgrade', () => {
    const ws = ['Upgrade: websocket', 'Sec-WebSocket-Version: 13'];
    expect(doneReq(msg('GET /ws HTTP/1.1', H, 'Connection: keep-alive, Upgrade', ...ws)).upgrade).toBe('websocket');
    expect(doneReq(msg('GET /ws HTTP/1.1', H, ...ws)).upgrade).toBeNull();
    expect(doneReq(msg('GET /ws HTTP/1.0', 'Connection: upgrade', ...ws)).upgrade).toBeNull();
  });

  it('Expect: 100-continue on HTTP/1.1 only', () => {
    expect(doneReq(msg('POST / HTTP/1.1', H, 'Content-Length: 3', 'Expect: 100-Continue')).expectContinue).toBe(true);
    expect(doneReq(msg('POST / HTTP/1.0', 'Content-Length: 3', 'Expect: 100-continue')).expectContinue).toBe(false);
  });

  it('request-target forms', () => {
    expect(doneReq(msg('CONNECT a.test:443 HTTP/1.1', 'Host: a.test:443')).target).toBe('a.test:443');
    expect(doneReq(msg('CONNECT [::1]:443 HTTP/1.1', 'Host: [::1]:443')).host).toBe('[::1]:443');
    expect(doneReq(msg('OPTIONS * HTTP/1.1', H)).target).toBe('*');
    expect(doneReq(msg('GET http://a.test/x HTTP/1.1', H)).target).toBe('http://a.test/x');
    expect(doneReq(msg('PURGE /x HTTP/1.1', H)).method).toBe('PURGE');
  });

  it('one leading CRLF, counted in headerBytes', () => {
    const raw = Buffer.concat([Buffer.from('\r\n'), msg('GET / HTTP/1.1', H)]);
    expect(doneReq(raw).headerBytes).toBe(raw.length);
  });

  it('exactly maxHeaderCount headers and exactly maxHeaderBytes', () => {
    expect(doneReq(msg('GET / HTTP/1.1', H, ...Array.from({ length: 99 }, (_, i) => `X-${i}: v`))).headers).toHaveLength(100);
    const base = msg('GET / HTTP/1.1', H, 'X: ').length;
    const exact = msg('GET / HTTP/1.1', H, `X: ${'a'.repeat(16384 - base)}`);
    expect(exact.length).toBe(16384);
    expect(doneReq(exact).headerBytes).toBe(16384);
  });
});

describe('parseResponseHead', () => {
  it('Content-Length, chunked and close-delimited bodies', () => {
    expect(doneRes(msg('HTTP/1.1 200 OK', 'Content-Length: 12'))).toMatchObject({ status: 200, reason: 'OK', contentLength: 12, chunked: false, keepAlive: true });
    expect(doneRes(msg('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'))).toMatchObject({ contentLength: null, chunked: true, keepAlive: true });
    expect(doneRes(msg('HTTP/1.1 200 OK', 'Date: x'))).toMatchObject({ contentLength: null, chunked: false, keepAlive: false });
    expect(doneRes(msg('HTTP/1.1 200 OK', 'Transfer-Encoding: gzip'))).toMatchObject({ contentLength: null, chunked: false, keepAlive: false });
    expect(doneRes(msg('HTTP/1.0 200 OK', 'Transfer-Encoding: chunked'))).toMatchObject({ contentLength: null, chunked: false, keepAlive: false });
  });

  it('no body for HEAD, 1xx, 204, 304 and CONNECT 2xx', () => {
    const zero = { contentLength: 0, chunked: false };
    expect(doneRes(msg('HTTP/1.1 200 OK', 'Content-Length: 100'), 'HEAD')).toMatchObject({ ...zero, keepAlive: true });
    expect(doneRes(msg('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'), 'HEAD')).toMatchObject(zero);
    expect(doneRes(msg('HTTP/1.1 100 Continue'))).toMatchObject(zero);
    expect(doneRes(msg('HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade'))).toMatchObject(zero);
    expect(doneRes(msg('HTTP/1.1 204 No Content'))).toMatchObject({ ...zero, keepAlive: true });
    expect(doneRes(msg('HTTP/1.1 304 Not Modified', 'Content-Length: 50'))).toMatchObject({ ...zero, keepAlive: true });
    expect(doneRes(msg('HTTP/1.1 200 Connection established'), 'CONNECT')).toMatchObject(zero);
  });

  it('keep-alive per version and Connection', () => {
    expect(doneRes(msg('HTTP/1.1 200 OK', 'Content-Length: 0', 'Connection: close')).keepAlive).toBe(false);
    expect(doneRes(msg('HTTP/1.0 200 OK', 'Content-Length: 0')).keepAlive).toBe(false);
    expect(doneRes(msg('HTTP/1.0 200 OK', 'Content-Length: 0', 'Connection: keep-alive')).keepAlive).toBe(true);
  });

  it('status lines with empty or missing reason', () => {
    expect(doneRes(msg('HTTP/1.1 200', 'Content-Length: 0'))).toMatchObject({ status: 200, reason: '' });
    expect(doneRes(msg('HTTP/1.1 404 ', 'Content-Length: 0'))).toMatchObject({ status: 404, reason: '' });
    expect(doneRes(msg('HTTP/1.1 599 Very Custom reason', 'Content-Length: 0')).reason).toBe('Very Custom reason');
  });

  it.each([
    ['CL + TE', msg('HTTP/1.1 200 OK', 'Content-Length: 5', 'Transfer-Encoding: chunked'), 'smuggling'],
    ['CL 5, 6', msg('HTTP/1.1 200 OK', 'Content-Length: 5, 6'), 'smuggling'],
    ['CL non-digit', msg('HTTP/1.1 200 OK', 'Content-Length: five'), 'bad-request'],
    ['TE chunked twice', msg('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked, chunked'), 'smuggling'],
    ['two-digit status', msg('HTTP/1.1 20 OK'), 'bad-request'],
    ['four-digit status', msg('HTTP/1.1 2000 OK'), 'bad-request'],
    ['status 099', msg('HTTP/1.1 099 OK'), 'bad-request'],
    ['HTTP/2.0', msg('HTTP/2.0 200 OK'), 'unsupported-version'],
    ['no SP', msg('HTTP/1.1'), 'bad-request'],
    ['bare LF', Buffer.from('HTTP/1.1 200 OK\nContent-Length: 0\n\n'), 'bad-request'],
    ['obs-fold', msg('HTTP/1.1 200 OK', 'X: a', ' b'), 'bad-request'],
    ['NUL in reason', msg('HTTP/1.1 200 O\0K'), 'bad-request'],
  ] as const)('rejects %s', (_n, raw, code) => {
    expect(res(raw)).toMatchObject({ status: 'error', code });
  });
});

const SAMPLES: Array<[string, Buffer, 'req' | 'res']> = [
  ['browser GET', msg('GET /index.html?x=1 HTTP/1.1', 'Host: www.example.com', 'User-Agent: Mozilla/5.0', 'Accept: text/html,*/*;q=0.8', 'Accept-Encoding: gzip, br', 'Cookie: a=b; c=d'), 'req'],
  ['chunked POST + body', Buffer.concat([msg('POST /up HTTP/1.1', H, 'Transfer-Encoding: chunked', 'Content-Type: text/plain'), Buffer.from('5\r\nhello\r\n0\r\n\r\n')]), 'req'],
  ['websocket upgrade', msg('GET /chat HTTP/1.1', H, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'), 'req'],
  ['leading CRLF GET', Buffer.concat([Buffer.from('\r\n'), msg('GET / HTTP/1.0')]), 'req'],
  ['200 response + body', Buffer.concat([msg('HTTP/1.1 200 OK', 'Content-Type: text/html', 'Content-Length: 5'), Buffer.from('hello')]), 'res'],
  ['chunked response', msg('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', 'Connection: keep-alive'), 'res'],
];

describe('incremental parsing', () => {
  it.each(SAMPLES)('%s: need-more for every strict prefix, one-shot result for the whole', (_n, raw, kind) => {
    const parse = (b: Buffer): HeadResult<RequestHead | ResponseHead> => (kind === 'req' ? req(b) : res(b));
    const whole = parse(raw);
    expect(whole.status).toBe('done');
    const end = whole.status === 'done' ? whole.head.headerBytes : 0;
    for (let i = 0; i < end; i++) expect(parse(raw.subarray(0, i)), `prefix ${i}`).toEqual({ status: 'need-more' });
    for (let i = end; i <= raw.length; i++) expect(parse(raw.subarray(0, i))).toEqual(whole);
  });

  it('pipelined requests: headerBytes + body framing finds each next message', () => {
    const parts = [
      msg('GET /1 HTTP/1.1', H),
      Buffer.concat([msg('POST /2 HTTP/1.1', H, 'Content-Length: 5'), Buffer.from('hello')]),
      Buffer.concat([msg('POST /3 HTTP/1.1', H, 'Transfer-Encoding: chunked'), Buffer.from('3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n')]),
      msg('GET /4 HTTP/1.1', H, 'Connection: close'),
    ];
    const all = Buffer.concat(parts);
    const targets: string[] = [];
    let off = 0;
    while (off < all.length) {
      const h = doneReq(all.subarray(off));
      targets.push(h.target);
      off += h.headerBytes;
      if (h.chunked) {
        const r = new ChunkedFramer().push(all.subarray(off));
        expect(r.done).toBe(true);
        off += r.consumed;
      } else off += h.contentLength ?? 0;
    }
    expect(targets).toEqual(['/1', '/2', '/3', '/4']);
    expect(off).toBe(all.length);
  });
});

const tokenArb = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/);
const valueArb = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e\t]{0,30}[\x21-\x7e])?$/);

describe('properties', () => {
  it('random valid headers round-trip, every prefix needs more', () => {
    const reserved = /^(host|content-length|transfer-encoding)$/i;
    fc.assert(
      fc.property(fc.array(fc.tuple(tokenArb.filter((n) => !reserved.test(n)), valueArb), { maxLength: 20 }), (hs) => {
        const raw = msg('GET / HTTP/1.1', H, ...hs.map(([n, v]) => `${n}: ${v}`));
        const h = doneReq(raw);
        expect(h.headers).toEqual([['Host', 'a.test'], ...hs]);
        expect(h.headerBytes).toBe(raw.length);
        const cut = Math.floor(raw.length / 2);
        expect(req(raw.subarray(0, cut)).status).toBe('need-more');
      }),
    );
  });

  it('arbitrary bytes never throw and give a well-formed result', () => {
    const codes = { 'too-large': 431, 'too-many-headers': 431, 'bad-request': 400, smuggling: 400, nominated: 400, 'unsupported-version': 505 };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom('GET / HTTP/1.1\r\nHost: a\r\n', 'HTTP/1.1 200 OK\r\n', ''), (bytes, prefix) => {
        const buf = Buffer.concat([Buffer.from(prefix), Buffer.from(bytes)]);
        for (const r of [parseRequestHead(buf, { maxHeaderBytes: 256, maxHeaderCount: 8 }), parseResponseHead(buf, LIMITS, 'GET')]) {
          expect(['need-more', 'done', 'error']).toContain(r.status);
          if (r.status === 'error') expect(r.httpStatus).toBe(codes[r.code]);
          if (r.status === 'done') expect(r.head.headerBytes).toBeLessThanOrEqual(buf.length);
        }
      }),
    );
  });
});

describe('hop-by-hop', () => {
  it('lists the fixed set and the Connection-named fields', () => {
    const fixed = 'connection keep-alive proxy-authenticate proxy-authorization proxy-connection te trailer transfer-encoding upgrade';
    expect([...HOP_BY_HOP].sort().join(' ')).toBe(fixed);
    // Fields the Connection header names are hop-by-hop too (any case, several Connection fields).
    const r = parseRequestHead(Buffer.from('GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Foo, keep-alive\r\nconnection:  X-Bar \r\nX-Foo: 1\r\n\r\n'), LIMITS);
    if (r.status !== 'done') throw new Error('expected a head');
    const tokens = r.head.connectionTokens;
    for (const name of [...fixed.split(' '), 'x-bar', 'X-Foo', 'x-foo']) expect(isHopByHop(name, tokens), name).toBe(true);
    for (const name of ['host', 'x-other', 'Content-Length']) expect(isHopByHop(name, tokens), name).toBe(false);
    expect(HOP_BY_HOP.has('x-foo')).toBe(false);
  });
});

/** Requests checked against Node's llhttp-based server (default, non-insecure parser). */
const body = (head: Buffer, b: string): Buffer => Buffer.concat([head, Buffer.from(b)]);
const NODE_CASES: Array<{ name: string; raw: Buffer; ours: 'accept' | 'reject'; node: 'accept' | 'reject' | 'skip' }> = [
  { name: 'GET', raw: msg('GET / HTTP/1.1', H), ours: 'accept', node: 'accept' },
  { name: 'POST Content-Length', raw: body(msg('POST / HTTP/1.1', H, 'Content-Length: 5'), 'hello'), ours: 'accept', node: 'accept' },
  { name: 'POST chunked', raw: body(msg('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked'), '5;a=b\r\nhello\r\n0\r\n\r\n'), ours: 'accept', node: 'accept' },
  { name: 'POST gzip, chunked', raw: body(msg('POST / HTTP/1.1', H, 'Transfer-Encoding: gzip, chunked'), '0\r\n\r\n'), ours: 'accept', node: 'accept' },
  { name: 'HTTP/1.0 without Host', raw: msg('GET / HTTP/1.0'), ours: 'accept', node: 'accept' },
  { name: 'leading CRLF', raw: body(Buffer.from('\r\n'), msg('GET / HTTP/1.1', H).toString()), ours: 'accept', node: 'accept' },
  { name: 'OPTIONS *', raw: msg('OPTIONS * HTTP/1.1', H), ours: 'accept', node: 'accept' },
  { name: 'absolute-form', raw: msg('GET http://a.test/x HTTP/1.1', H), ours: 'accept', node: 'accept' },
  { name: 'CL + TE', raw: body(msg('POST / HTTP/1.1', H, 'Content-Length: 5', 'Transfer-Encoding: chunked'), '0\r\n\r\n'), ours: 'reject', node: 'reject' },
  // Node stricter: it rejects repeated identical Content-Length values, which RFC 9110 §8.6 lets us accept.
  { name: 'same CL twice', raw: body(msg('POST / HTTP/1.1', H, 'Content-Length: 5', 'Content-Length: 5'), 'hello'), ours: 'accept', node: 'skip' },
  { name: 'TE + CL', raw: body(msg('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', 'Content-Length: 5'), '0\r\n\r\n'), ours: 'reject', node: 'reject' },
  { name: 'differing CL', raw: body(msg('POST / HTTP/1.1', H, 'Content-Length: 5', 'Content-Length: 6'), 'hello!'), ours: 'reject', node: 'reject' },
  { name: 'CL list 5, 6', raw: body(msg('POST / HTTP/1.1', H, 'Content-Length: 5, 6'), 'hello!'), ours: 'reject', node: 'reject' },
  { name: 'CL non-digit', raw: body(msg('POST / HTTP/1.1', H, 'Content-Length: 5a'), 'hello'), ours: 'reject', node: 'reject' },
  { name: 'TE chunked, gzip', raw: body(msg('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked, gzip'), '0\r\n\r\n'), ours: 'reject', node: 'reject' },
  { name: 'TE xchunked', raw: body(msg('POST / HTTP/1.1', H, 'Transfer-Encoding: xchunked'), '0\r\n\r\n'), ours: 'reject', node: 'reject' },
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
  { name: 'TE in HTTP/1.0', raw: body(msg('POST / HTTP/1.0', 'Transfer-Encoding: chunked'), '0\r\n\r\n'), ours: 'reject', node: 'skip' },
];

describe('cross-check against node:http', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((rq, rs) => void rq.on('end', () => rs.writeHead(200, { connection: 'close' }).end('ok')).resume());
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
