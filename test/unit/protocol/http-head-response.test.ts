// parseResponseHead, and what holds for both parsers: incremental parsing, properties, hop-by-hop.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  HOP_BY_HOP,
  isHopByHop,
  parseRequestHead,
  parseResponseHead,
  type HeadResult,
  type RequestHead,
  type ResponseHead,
} from '../../../src/protocol/http-head.js';
import { ChunkedFramer } from '../../../src/protocol/chunked.js';
import { LIMITS, msg, req, res, doneReq, doneRes, H } from '../../helpers/http-head.js';

describe('parseResponseHead', () => {
  it('Content-Length, chunked and close-delimited bodies', () => {
    expect(doneRes(msg('HTTP/1.1 200 OK', 'Content-Length: 12'))).toMatchObject({
      status: 200,
      reason: 'OK',
      contentLength: 12,
      chunked: false,
      keepAlive: true,
    });
    expect(doneRes(msg('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'))).toMatchObject({
      contentLength: null,
      chunked: true,
      keepAlive: true,
    });
    expect(doneRes(msg('HTTP/1.1 200 OK', 'Date: x'))).toMatchObject({
      contentLength: null,
      chunked: false,
      keepAlive: false,
    });
    expect(doneRes(msg('HTTP/1.1 200 OK', 'Transfer-Encoding: gzip'))).toMatchObject({
      contentLength: null,
      chunked: false,
      keepAlive: false,
    });
    expect(doneRes(msg('HTTP/1.0 200 OK', 'Transfer-Encoding: chunked'))).toMatchObject({
      contentLength: null,
      chunked: false,
      keepAlive: false,
    });
  });

  it('no body for HEAD, 1xx, 204, 304 and CONNECT 2xx', () => {
    const zero = { contentLength: 0, chunked: false };
    expect(doneRes(msg('HTTP/1.1 200 OK', 'Content-Length: 100'), 'HEAD')).toMatchObject({ ...zero, keepAlive: true });
    expect(doneRes(msg('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'), 'HEAD')).toMatchObject(zero);
    expect(doneRes(msg('HTTP/1.1 100 Continue'))).toMatchObject(zero);
    expect(doneRes(msg('HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade'))).toMatchObject(
      zero,
    );
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
  [
    'browser GET',
    msg(
      'GET /index.html?x=1 HTTP/1.1',
      'Host: www.example.com',
      'User-Agent: Mozilla/5.0',
      'Accept: text/html,*/*;q=0.8',
      'Accept-Encoding: gzip, br',
      'Cookie: a=b; c=d',
    ),
    'req',
  ],
  [
    'chunked POST + body',
    Buffer.concat([
      msg('POST /up HTTP/1.1', H, 'Transfer-Encoding: chunked', 'Content-Type: text/plain'),
      Buffer.from('5\r\nhello\r\n0\r\n\r\n'),
    ]),
    'req',
  ],
  [
    'websocket upgrade',
    msg(
      'GET /chat HTTP/1.1',
      H,
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
    ),
    'req',
  ],
  ['leading CRLF GET', Buffer.concat([Buffer.from('\r\n'), msg('GET / HTTP/1.0')]), 'req'],
  [
    '200 response + body',
    Buffer.concat([msg('HTTP/1.1 200 OK', 'Content-Type: text/html', 'Content-Length: 5'), Buffer.from('hello')]),
    'res',
  ],
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
      Buffer.concat([
        msg('POST /3 HTTP/1.1', H, 'Transfer-Encoding: chunked'),
        Buffer.from('3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n'),
      ]),
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
      fc.property(
        fc.array(
          fc.tuple(
            tokenArb.filter((n) => !reserved.test(n)),
            valueArb,
          ),
          { maxLength: 20 },
        ),
        (hs) => {
          const raw = msg('GET / HTTP/1.1', H, ...hs.map(([n, v]) => `${n}: ${v}`));
          const h = doneReq(raw);
          expect(h.headers).toEqual([['Host', 'a.test'], ...hs]);
          expect(h.headerBytes).toBe(raw.length);
          const cut = Math.floor(raw.length / 2);
          expect(req(raw.subarray(0, cut)).status).toBe('need-more');
        },
      ),
    );
  });

  it('arbitrary bytes never throw and give a well-formed result', () => {
    const codes = {
      'too-large': 431,
      'too-many-headers': 431,
      'bad-request': 400,
      smuggling: 400,
      nominated: 400,
      'unsupported-version': 505,
    };
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom('GET / HTTP/1.1\r\nHost: a\r\n', 'HTTP/1.1 200 OK\r\n', ''),
        (bytes, prefix) => {
          const buf = Buffer.concat([Buffer.from(prefix), Buffer.from(bytes)]);
          for (const r of [
            parseRequestHead(buf, { maxHeaderBytes: 256, maxHeaderCount: 8 }),
            parseResponseHead(buf, LIMITS, 'GET'),
          ]) {
            expect(['need-more', 'done', 'error']).toContain(r.status);
            if (r.status === 'error') expect(r.httpStatus).toBe(codes[r.code]);
            if (r.status === 'done') expect(r.head.headerBytes).toBeLessThanOrEqual(buf.length);
          }
        },
      ),
    );
  });
});

describe('hop-by-hop', () => {
  it('lists the fixed set and the Connection-named fields', () => {
    const fixed =
      'connection keep-alive proxy-authenticate proxy-authorization proxy-connection te trailer transfer-encoding upgrade';
    expect([...HOP_BY_HOP].sort().join(' ')).toBe(fixed);
    // Fields the Connection header names are hop-by-hop too (any case, several Connection fields).
    const r = parseRequestHead(
      Buffer.from(
        'GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Foo, keep-alive\r\nconnection:  X-Bar \r\nX-Foo: 1\r\n\r\n',
      ),
      LIMITS,
    );
    if (r.status !== 'done') throw new Error('expected a head');
    const tokens = r.head.connectionTokens;
    for (const name of [...fixed.split(' '), 'x-bar', 'X-Foo', 'x-foo'])
      expect(isHopByHop(name, tokens), name).toBe(true);
    for (const name of ['host', 'x-other', 'Content-Length']) expect(isHopByHop(name, tokens), name).toBe(false);
    expect(HOP_BY_HOP.has('x-foo')).toBe(false);
  });
});
