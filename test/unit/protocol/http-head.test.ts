// parseRequestHead: what it rejects (smuggling, malformed, too large) and what it accepts.
import { describe, it, expect } from 'vitest';
import { parseRequestHead } from '../../../src/protocol/http-head.js';
import { msg, req, doneReq, type Reject, H } from '../../helpers/http-head.js';

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
  [
    'TE split headers, gzip last',
    msg('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip'),
    'smuggling',
    400,
  ],
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
  [
    '101 headers',
    msg('GET / HTTP/1.1', H, ...Array.from({ length: 100 }, (_, i) => `X-${i}: v`)),
    'too-many-headers',
    431,
  ],
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
    const raw = msg(
      'GET /p?q=1 HTTP/1.1',
      'Host: Example.COM:8080',
      'User-Agent:  ua  ',
      'X-Tab: a\tb',
      'X-Latin: caf\xe9',
    );
    const h = doneReq(raw);
    expect(h).toMatchObject({ method: 'GET', target: '/p?q=1', version: '1.1', host: 'example.com:8080' });
    expect(h).toMatchObject({
      contentLength: 0,
      chunked: false,
      keepAlive: true,
      upgrade: null,
      expectContinue: false,
    });
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
      expect(doneReq(msg('POST / HTTP/1.1', H, `Transfer-Encoding: ${te}`))).toMatchObject({
        chunked: true,
        contentLength: null,
      });
    }
    expect(doneReq(msg('POST / HTTP/1.1', H, 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked')).chunked).toBe(
      true,
    );
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
    expect(
      doneReq(msg('GET / HTTP/1.1', H, ...Array.from({ length: 99 }, (_, i) => `X-${i}: v`))).headers,
    ).toHaveLength(100);
    const base = msg('GET / HTTP/1.1', H, 'X: ').length;
    const exact = msg('GET / HTTP/1.1', H, `X: ${'a'.repeat(16384 - base)}`);
    expect(exact.length).toBe(16384);
    expect(doneReq(exact).headerBytes).toBe(16384);
  });
});
