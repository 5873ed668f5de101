import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ChunkedFramer, LengthFramer, type FrameResult } from '../../../src/protocol/chunked.js';
import { splitAt } from '../../helpers/bytes.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Encodes `chunks` as a chunked body, with an optional extension per chunk and trailer lines. */
function encode(chunks: readonly Uint8Array[], ext: readonly string[] = [], trailers: readonly string[] = []): Buffer {
  const parts: Buffer[] = [];
  chunks.forEach((c, i) => {
    if (c.length === 0) return;
    parts.push(b(`${c.length.toString(16)}${ext[i % Math.max(ext.length, 1)] ?? ''}\r\n`), Buffer.from(c), b('\r\n'));
  });
  parts.push(b(`0${ext[0] ?? ''}\r\n`), ...trailers.map((t) => b(`${t}\r\n`)), b('\r\n'));
  return Buffer.concat(parts);
}

/** Feeds `pieces` in order; returns total consumed and the result that finished (or the last). */
function feed(f: ChunkedFramer, pieces: readonly Buffer[]): { consumed: number; last: FrameResult; doneAt: number } {
  let consumed = 0;
  let last: FrameResult = { consumed: 0, done: false };
  let doneAt = -1;
  pieces.forEach((p, i) => {
    if (last.done || last.error !== undefined) return;
    last = f.push(p);
    consumed += last.consumed;
    if (last.done) doneAt = i;
  });
  return { consumed, last, doneAt };
}

describe('ChunkedFramer accepts', () => {
  it('a simple body in one push, leaving pipelined bytes', () => {
    const body = b('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    const next = b('GET /next HTTP/1.1\r\n');
    const f = new ChunkedFramer();
    expect(f.push(Buffer.concat([body, next]))).toEqual({ consumed: body.length, done: true });
    expect(f.done).toBe(true);
    expect(f.push(next)).toEqual({ consumed: 0, done: true });
  });

  it.each([
    ['extension', '1a;foo=bar\r\n' + 'x'.repeat(26) + '\r\n0\r\n\r\n'],
    ['several extensions, quoted', '3;a=1;b="x y";c\r\nabc\r\n0;last\r\n\r\n'],
    ['upper and lower hex, leading zeros', '0A\r\n0123456789\r\n00b\r\nabcdefghijk\r\n000\r\n\r\n'],
    ['trailers', '3\r\nabc\r\n0\r\nExpires: never\r\nX-Sum:\tab c\r\nX-Empty:\r\n\r\n'],
    ['empty body', '0\r\n\r\n'],
    ['chunk data containing CRLF', '4\r\n\r\n\r\n\r\n0\r\n\r\n'],
    ['obs-text in extension', '1;n=caf\xe9\r\nx\r\n0\r\n\r\n'],
  ])('%s', (_n, text) => {
    const raw = b(text);
    expect(new ChunkedFramer().push(Buffer.concat([raw, b('XYZ')]))).toEqual({ consumed: raw.length, done: true });
  });

  it('a chunk-size line of exactly 1024 bytes', () => {
    const line = '1;' + 'a'.repeat(1022);
    expect(new ChunkedFramer().push(b(`${line}\r\nx\r\n0\r\n\r\n`)).done).toBe(true);
  });

  it('a chunk size of 2^53 - 1 (not yet done, no error)', () => {
    const r = new ChunkedFramer().push(b('1fffffffffffff\r\nabc'));
    expect(r).toEqual({ consumed: 19, done: false });
  });

  it('one byte at a time', () => {
    const raw = b('1a;foo=bar\r\n' + 'y'.repeat(26) + '\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\n');
    const f = new ChunkedFramer();
    for (let i = 0; i < raw.length; i++) {
      const r = f.push(raw.subarray(i, i + 1));
      expect(r).toEqual({ consumed: 1, done: i === raw.length - 1 });
    }
    expect(f.push(b('Z'))).toEqual({ consumed: 0, done: true });
  });

  it('does not copy: consumed indexes the caller buffer', () => {
    const raw = Buffer.concat([b('3\r\nabc\r\n0\r\n\r\n'), b('rest')]);
    const r = new ChunkedFramer().push(raw);
    expect(raw.subarray(r.consumed).toString()).toBe('rest');
  });
});

describe('ChunkedFramer rejects', () => {
  it.each([
    ['bad hex digit', 'g\r\n', 0],
    ['hex prefix', '0x5\r\nhello\r\n', 1],
    ['negative', '-1\r\n', 0],
    ['empty size', '\r\n', 0],
    ['extension without size', ';a\r\n', 0],
    ['whitespace without ;', '5 \r\nhello\r\n', 1],
    ['whitespace inside size', '5 5\r\n', 1],
    ['BWS before ; (llhttp refuses it)', '3 ;a\r\nabc\r\n', 1],
    ['LF without CR', '5\nhello\r\n', 1],
    ['CR without LF', '5\rXhello\r\n', 2],
    ['size over 2^53', '20000000000000\r\n', 13],
    ['missing CRLF after data', '5\r\nhelloX\r\n0\r\n\r\n', 8],
    ['CR but no LF after data', '5\r\nhello\rX0\r\n\r\n', 9],
    ['data longer than size', '3\r\nabcd\r\n0\r\n\r\n', 6],
    ['NUL in extension', '1;a\0\r\nx\r\n', 3],
    ['LF in extension', '1;a\nb\r\nx\r\n', 3],
    ['trailer obs-fold', '0\r\nA: b\r\n c\r\n\r\n', 9],
    ['trailer bad name', '0\r\nA B: c\r\n\r\n', 4],
    ['trailer without colon', '0\r\nAB\r\n\r\n', 5],
    ['trailer NUL', '0\r\nA: \0\r\n\r\n', 6],
    ['final CR without LF', '0\r\n\rX', 4],
  ])('%s', (_n, text, at) => {
    const f = new ChunkedFramer();
    const r = f.push(b(text));
    expect(r.done).toBe(false);
    expect(r.error).toEqual(expect.any(String));
    expect(r.consumed).toBe(at);
    expect(f.push(b('0\r\n\r\n'))).toEqual({ consumed: 0, done: false, error: r.error });
  });

  it('a chunk-size line over 1024 bytes, even when split', () => {
    const f = new ChunkedFramer();
    expect(f.push(b('1;' + 'a'.repeat(1000))).error).toBeUndefined();
    expect(f.push(b('a'.repeat(23))).error).toBe('chunk-size line too long');
    expect(new ChunkedFramer().push(b('0'.repeat(1025))).error).toBe('chunk-size line too long');
  });

  it('an oversize trailer section', () => {
    const f = new ChunkedFramer({ maxTrailerBytes: 32 });
    expect(f.push(b(`0\r\nX: ${'a'.repeat(40)}\r\n\r\n`)).error).toBe('trailer section too large');
  });

  it('errors on the same byte at every split', () => {
    const raw = b('5;x=1\r\nhello\r\n3\r\nabcX\r\n0\r\n\r\n');
    const expected = new ChunkedFramer().push(raw);
    expect(expected.error).toBeDefined();
    for (let i = 0; i <= raw.length; i++) {
      const { consumed, last } = feed(new ChunkedFramer(), [raw.subarray(0, i), raw.subarray(i)]);
      expect(consumed).toBe(expected.consumed);
      expect(last.error).toBe(expected.error);
    }
  });
});

const chunkArb = fc.uint8Array({ maxLength: 300 });
const extArb = fc.constantFrom('', ';a', ';foo=bar', ';q="x y"', '; k=v', ';n;m=1');
const trailerArb = fc.constantFrom('Expires: 0', 'X-Check: abc def', 'Y:', 'Z-Z:\tt');

describe('ChunkedFramer properties', () => {
  it('random bodies at random splits: consumed equals encoded length, leftover untouched', () => {
    fc.assert(
      fc.property(
        fc.array(chunkArb, { maxLength: 8 }),
        fc.array(extArb, { maxLength: 3 }),
        fc.array(trailerArb, { maxLength: 3 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.array(fc.nat(4000), { maxLength: 12 }),
        (chunks, ext, trailers, leftover, points) => {
          const encoded = encode(chunks, ext, trailers);
          const all = Buffer.concat([encoded, Buffer.from(leftover)]);
          const pieces = splitAt(all, points);
          const f = new ChunkedFramer();
          const { consumed, last, doneAt } = feed(f, pieces);
          expect(last.error).toBeUndefined();
          expect(last.done).toBe(true);
          expect(consumed).toBe(encoded.length);
          const finisher = pieces[doneAt]!;
          expect(
            finisher
              .subarray(last.consumed)
              .equals(all.subarray(encoded.length, encoded.length + finisher.length - last.consumed)),
          ).toBe(true);
        },
      ),
    );
  });

  it('one byte at a time equals one shot for random bodies', () => {
    fc.assert(
      fc.property(fc.array(chunkArb, { maxLength: 4 }), fc.array(extArb, { maxLength: 2 }), (chunks, ext) => {
        const encoded = encode(chunks, ext, ['T: 1']);
        const pieces = Array.from({ length: encoded.length }, (_, i) => encoded.subarray(i, i + 1));
        const { consumed, last, doneAt } = feed(new ChunkedFramer(), pieces);
        expect(last.done).toBe(true);
        expect(doneAt).toBe(encoded.length - 1);
        expect(consumed).toBe(encoded.length);
      }),
    );
  });

  it('arbitrary bytes never throw and never over-consume', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(200), { maxLength: 5 }), (bytes, points) => {
        const buf = Buffer.from(bytes);
        const f = new ChunkedFramer();
        for (const p of splitAt(buf, points)) {
          const r = f.push(p);
          expect(r.consumed).toBeGreaterThanOrEqual(0);
          expect(r.consumed).toBeLessThanOrEqual(p.length);
          if (r.error !== undefined) expect(r.done).toBe(false);
        }
      }),
    );
  });
});

describe('LengthFramer', () => {
  it('zero length is done at once', () => {
    expect(new LengthFramer(0).push(b('next'))).toEqual({ consumed: 0, done: true });
  });

  it('counts across pushes and leaves the rest', () => {
    const f = new LengthFramer(10);
    expect(f.push(b('hell'))).toEqual({ consumed: 4, done: false });
    expect(f.push(b(''))).toEqual({ consumed: 0, done: false });
    expect(f.remaining).toBe(6);
    expect(f.push(b('o worldGET'))).toEqual({ consumed: 6, done: true });
    expect(f.push(b('more'))).toEqual({ consumed: 0, done: true });
  });

  it('rejects invalid lengths', () => {
    for (const n of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])
      expect(() => new LengthFramer(n)).toThrow(RangeError);
  });

  it('random splits consume exactly n', () => {
    fc.assert(
      fc.property(
        fc.nat(500),
        fc.uint8Array({ maxLength: 800 }),
        fc.array(fc.nat(800), { maxLength: 8 }),
        (n, bytes, points) => {
          fc.pre(bytes.length >= n);
          const f = new LengthFramer(n);
          let total = 0;
          for (const p of splitAt(Buffer.from(bytes), points)) total += f.push(p).consumed;
          expect(total).toBe(n);
        },
      ),
    );
  });
});
