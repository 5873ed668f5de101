/**
 * HeadReader: finds the end of a head as bytes arrive, each byte scanned once (issue 10 point 5).
 * The differential fuzz (http-head-fuzz.test.ts) checks split-invariance at large; these pin the
 * edges by hand.
 */
import { describe, expect, it } from 'vitest';
import { HeadReader, HEAD_DONE, HEAD_NEED_MORE } from '../../../src/protocol/http-head-reader.js';

const LIMITS = { maxHeaderBytes: 64, maxHeaderCount: 3 };
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function feed(isRequest: boolean, ...pieces: string[]): { r: ReturnType<HeadReader['push']>; reader: HeadReader } {
  const reader = new HeadReader(isRequest, LIMITS);
  let r: ReturnType<HeadReader['push']> = HEAD_NEED_MORE;
  for (const p of pieces) {
    r = reader.push(b(p));
    if (r !== HEAD_NEED_MORE) break;
  }
  return { r, reader };
}

describe('HeadReader', () => {
  it('returns the head and the bytes after it, in one piece or many', () => {
    const cases: Array<[string[], string]> = [
      [['GET / HTTP/1.1\r\nH: x\r\n\r\nBODY'], 'BODY'],
      [['GET / HTTP/1.1\r\nH: x\r', '\n\r', '\nBODY'], 'BODY'],
      // Bytes after the head in the piece that completed it (later pieces are the caller's).
      [['G', 'ET / HTTP/1.1\r\nH: x\r\n\r\nBO', 'DY'], 'BO'],
    ];
    for (const [pieces, rest] of cases) {
      const { r, reader } = feed(true, ...pieces);
      expect(r).toBe(HEAD_DONE);
      expect(reader.head.toString()).toBe('GET / HTTP/1.1\r\nH: x\r\n\r\n');
      expect((reader.rest ?? b('')).toString()).toBe(rest);
    }
  });

  it('tolerates one leading CRLF before a request line, even split between its bytes', () => {
    const { r, reader } = feed(true, '\r', '\nGET / HTTP/1.1\r\n\r\n');
    expect(r).toBe(HEAD_DONE);
    expect(reader.head.toString()).toBe('\r\nGET / HTTP/1.1\r\n\r\n');
  });

  it('rejects a method that is not a token at its first bad byte, before the line ends', () => {
    expect(feed(true, '\x16\x03')).toMatchObject({ r: { code: 'bad-request', detail: 'invalid method token' } });
    expect(feed(true, ' GET')).toMatchObject({ r: { detail: 'invalid method token' } });
    expect(feed(true, 'GET').r).toBe(HEAD_NEED_MORE);
  });

  it('rejects bare LF, too many lines and heads that do not end within maxHeaderBytes', () => {
    expect(feed(true, 'GET / HTTP/1.1\nH: x\r\n\r\n')).toMatchObject({ r: { detail: 'bare LF line ending' } });
    expect(feed(true, 'GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n')).toMatchObject({
      r: { code: 'too-many-headers' },
    });
    expect(feed(true, `GET / HTTP/1.1\r\nX: ${'a'.repeat(40)}`, 'a'.repeat(10))).toMatchObject({
      r: { code: 'too-large' },
    });
    // A head ending exactly at the limit passes.
    const exact = `GET / HTTP/1.1\r\nX: ${'a'.repeat(64 - 23)}\r\n\r\n`;
    expect(exact.length).toBe(64);
    expect(feed(true, exact.slice(0, 30), exact.slice(30)).r).toBe(HEAD_DONE);
  });

  it('responses: no leading CRLF, no method check', () => {
    expect(feed(false, '\r\nHTTP/1.1 200 OK\r\n\r\n')).toMatchObject({ r: { detail: 'empty start line' } });
    expect(feed(false, 'HTTP/1.1 200 OK\r\n', '\r\nrest').r).toBe(HEAD_DONE);
  });

  it('reset() starts a new head', () => {
    const reader = new HeadReader(true, LIMITS);
    expect(reader.push(b('GET / HT'))).toBe(HEAD_NEED_MORE);
    expect(reader.buffered).toBe(8);
    reader.reset();
    expect(reader.push(b('PUT / HTTP/1.1\r\n\r\n'))).toBe(HEAD_DONE);
    expect(reader.head.toString()).toBe('PUT / HTTP/1.1\r\n\r\n');
  });
});
