/**
 * Differential fuzz of the request and response head parsers (issue 10 point 5): every input fed
 * whole and fed split must give the same result (same head, same following bytes, same parse, or
 * the same error code and detail). Inputs are seed heads mutated by a seeded PRNG, so a failure
 * names its seed and index and reproduces.
 *
 * `npm test`: FUZZ_INPUTS (default 100 000) inputs of each kind, each fed whole, split in two at a
 * random place and in three at two; every 5th also byte by byte, every 50th split in two at every
 * boundary.
 * `npm run fuzz`: 10^7 inputs (FUZZ_INPUTS=10000000), same checks.
 */
import { describe, expect, it } from 'vitest';
import { HeadReader, HEAD_DONE, HEAD_NEED_MORE } from '../../../src/protocol/http-head-reader.js';
import { parseRequestHead, parseResponseHead, type HeadLimits } from '../../../src/protocol/http-head.js';

const INPUTS = Number(process.env.FUZZ_INPUTS ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed1);
const EVERY_BOUNDARY = 50;
const EVERY_BYTEWISE = 5;
const LIMITS: HeadLimits = { maxHeaderBytes: 256, maxHeaderCount: 8 };

const REQUEST_SEEDS = [
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
  'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  'GET http://b.test/p?q HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, x-y\r\n\r\nGET / HTTP/1.1\r\n',
  '\r\nOPTIONS * HTTP/1.0\r\n\r\n',
  'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n',
];
const RESPONSE_SEEDS = [
  'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi',
  'HTTP/1.1 204 No Content\r\n\r\n',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n',
  'HTTP/1.0 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n',
];
const PIECES = [
  'X-Long: ' + 'y'.repeat(230) + '\r\n',
  '\r\n',
  '\r',
  '\n',
  ' ',
  '\t',
  ':',
  ',',
  ';',
  '\0',
  '\x7f',
  '\xff',
  'a',
  '0',
  'Content-Length: 5\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Connection: content-length\r\n',
  'Host: b\r\n',
  ' chunked',
  'HTTP/1.1',
  'x'.repeat(40),
];

/** xorshift32: fast, seedable, good enough to pick mutations. */
function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function mutate(rand: () => number, seed: string): Buffer {
  let s = seed;
  const n = 1 + Math.floor(rand() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rand() * (s.length + 1));
    const op = rand();
    if (op < 0.45) s = s.slice(0, at) + PIECES[Math.floor(rand() * PIECES.length)]! + s.slice(at);
    else if (op < 0.7) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rand() * 3));
    else if (op < 0.9) s = s.slice(0, at) + String.fromCharCode(Math.floor(rand() * 256)) + s.slice(at + 1);
    else s = s.slice(0, at);
  }
  return Buffer.from(s, 'latin1');
}

/**
 * Feed `pieces` (which make up `input`) to a fresh reader; the outcome as a comparable string. A
 * complete head must be the input's first bytes and the bytes after it the rest of the input: then
 * the parse of the head (a pure function of those bytes) is the same for every split too.
 */
function run(isRequest: boolean, input: Buffer, pieces: Buffer[]): string {
  const reader = new HeadReader(isRequest, LIMITS);
  let fed = 0;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    fed += piece.length;
    const r = reader.push(piece);
    if (r === HEAD_NEED_MORE) continue;
    if (r !== HEAD_DONE) return `error ${r.code} ${r.detail}`;
    const end = reader.head.length;
    if (!reader.head.equals(input.subarray(0, end))) return 'done with the wrong head bytes';
    const rest = reader.rest ?? Buffer.alloc(0);
    if (!rest.equals(input.subarray(end, fed))) return 'done with the wrong rest bytes';
    return `done ${end}`;
  }
  return 'need-more';
}

/**
 * The parse of a complete head (for the outcome statistics). The proxy parses with the span the
 * reader found (no second scan for line ends): that must give what a parse from scratch gives.
 */
function parse(isRequest: boolean, head: Buffer): string {
  const reader = new HeadReader(isRequest, LIMITS);
  if (reader.push(head) !== HEAD_DONE) return 'reader disagrees';
  const fresh = isRequest ? parseRequestHead(head, LIMITS) : parseResponseHead(head, LIMITS, 'GET');
  const spanned = isRequest
    ? parseRequestHead(head, LIMITS, reader.span)
    : parseResponseHead(head, LIMITS, 'GET', true, reader.span);
  if (JSON.stringify(fresh) !== JSON.stringify(spanned))
    return `span parse differs: ${JSON.stringify(fresh)} vs ${JSON.stringify(spanned)}`;
  return fresh.status === 'error' ? `parse error ${fresh.code}` : `parse ${fresh.status}`;
}

function splits(buf: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  out.push(buf.subarray(prev));
  return out;
}

function bytewise(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) out.push(buf.subarray(i, i + 1));
  return out;
}

describe('head parsers: whole and split give the same result', () => {
  for (const isRequest of [true, false]) {
    const kind = isRequest ? 'request' : 'response';
    it(
      `${INPUTS} mutated ${kind} heads`,
      () => {
        const rand = prng(SEED + (isRequest ? 0 : 1));
        const seeds = isRequest ? REQUEST_SEEDS : RESPONSE_SEEDS;
        const outcomes = new Map<string, number>();
        let boundaries = 0;
        for (let n = 0; n < INPUTS; n++) {
          const input = mutate(rand, seeds[n % seeds.length]!);
          const whole = run(isRequest, input, [input]);
          const where = `${kind} input #${n} (seed ${SEED}) ${JSON.stringify(input.toString('latin1'))}`;
          const kindOf = whole.startsWith('done')
            ? parse(isRequest, input.subarray(0, Number(whole.slice(5))))
            : whole.split(' ', 2).join(' ');
          outcomes.set(kindOf, (outcomes.get(kindOf) ?? 0) + 1);
          const a = Math.floor(rand() * (input.length + 1));
          const b = Math.floor(rand() * (input.length + 1));
          const feeds =
            n % EVERY_BYTEWISE === 0
              ? [bytewise(input), splits(input, [a]), splits(input, [a, b])]
              : [splits(input, [a]), splits(input, [a, b])];
          for (const pieces of feeds) {
            const got = run(isRequest, input, pieces);
            if (got !== whole) expect(got, `${where} split ${pieces.map((p) => p.length).join('+')}`).toBe(whole);
          }
          if (n % EVERY_BOUNDARY === 0) {
            for (let cut = 1; cut < input.length; cut++) {
              boundaries++;
              const got = run(isRequest, input, splits(input, [cut]));
              if (got !== whole) expect(got, `${where} split at ${cut}`).toBe(whole);
            }
          }
        }
        // The inputs reach every outcome (a fuzz that only ever sees one answer proves nothing).
        const kinds = [...outcomes.keys()].join(' | ');
        expect(kinds).not.toContain('differs');
        expect(kinds).not.toContain('disagrees');
        expect(kinds).toContain('parse done');
        expect(kinds).toContain('parse error');
        expect(kinds).toContain('need-more');
        expect(kinds).toContain('error bad-request');
        expect(kinds).toContain('error too-large');
        expect(boundaries).toBeGreaterThan(INPUTS);
      },
      INPUTS > 1_000_000 ? 0 : 60_000,
    );
  }
});
