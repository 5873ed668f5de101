import { beforeAll, describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ClientHelloParser, type HelloResult } from '../../../src/protocol/client-hello.js';
import { SAMPLES, captureNodeHello, parseClientHello, splitAt } from './tls-fixtures.js';

const STATUSES = ['need-more', 'done', 'not-tls', 'invalid', 'too-large'];

function chunked(buf: Buffer, points: readonly number[], maxBytes: number): HelloResult {
  const p = new ClientHelloParser(maxBytes);
  let r: HelloResult = { status: 'need-more' };
  for (const chunk of splitAt(buf, points)) r = p.push(chunk);
  expect(p.buffered.equals(buf)).toBe(true);
  return r;
}

function wellFormed(r: HelloResult): boolean {
  return STATUSES.includes(r.status) && (r.status !== 'invalid' || typeof r.detail === 'string');
}

const hellos: Array<readonly [string, Buffer]> = [...SAMPLES];

beforeAll(async () => {
  hellos.push([
    'node default',
    await captureNodeHello({ servername: 'example.test', ALPNProtocols: ['h2', 'http/1.1'] }),
  ]);
  hellos.push(['node tls1.2', await captureNodeHello({ servername: 'example.test', maxVersion: 'TLSv1.2' })]);
});

const cap = 64 * 1024;

describe('ClientHelloParser properties', () => {
  it('random split points give the same result as one-shot parsing', () => {
    const arb = fc.nat({ max: 1000 }).chain((i) => {
      const [, wire] = hellos[i % hellos.length]!;
      return fc.tuple(fc.constant(wire), fc.array(fc.nat({ max: wire.length }), { maxLength: 40 }));
    });
    fc.assert(
      fc.property(arb, ([wire, points]) => {
        expect(chunked(wire, points, cap)).toEqual(parseClientHello(wire, cap));
      }),
      { numRuns: 300 },
    );
  });

  it('one byte at a time gives the same result as one-shot for every sample', () => {
    for (const [name, wire] of hellos) {
      const every = Array.from({ length: wire.length }, (_, i) => i);
      const oneShot = parseClientHello(wire, cap);
      expect(oneShot.status, name).toBe('done');
      expect(chunked(wire, every, cap), name).toEqual(oneShot);
    }
  });

  it('random split points and caps agree with one-shot parsing under the same cap', () => {
    const arb = fc.nat({ max: 1000 }).chain((i) => {
      const [, wire] = hellos[i % hellos.length]!;
      return fc.tuple(
        fc.constant(wire),
        fc.array(fc.nat({ max: wire.length }), { maxLength: 20 }),
        fc.integer({ min: 1, max: wire.length + 10 }),
      );
    });
    fc.assert(
      fc.property(arb, ([wire, points, maxBytes]) => {
        const oneShot = parseClientHello(wire, maxBytes);
        expect(oneShot.status).toBe(maxBytes >= wire.length ? 'done' : 'too-large');
        expect(chunked(wire, points, maxBytes)).toEqual(oneShot);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw and chunking does not change the answer', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.array(fc.nat({ max: 512 }), { maxLength: 10 }),
        (bytes, points) => {
          const buf = Buffer.from(bytes);
          const r = parseClientHello(buf);
          expect(wellFormed(r)).toBe(true);
          expect(chunked(buf, points, cap)).toEqual(r);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('TLS-looking random records never throw', () => {
    const arb = fc.tuple(
      fc.integer({ min: 0, max: 0x4a00 }),
      fc.integer({ min: 0, max: 0xffffff }),
      fc.uint8Array({ maxLength: 400 }),
      fc.array(fc.nat({ max: 420 }), { maxLength: 10 }),
    );
    fc.assert(
      fc.property(arb, ([recordLength, hsLength, rest, points]) => {
        const head = Buffer.from([0x16, 0x03, 0x01, recordLength >> 8, recordLength & 0xff, 0x01]);
        const buf = Buffer.concat([head, Buffer.from([hsLength >> 16, (hsLength >> 8) & 0xff, hsLength & 0xff]), rest]);
        const r = parseClientHello(buf, 4096);
        expect(wellFormed(r)).toBe(true);
        expect(chunked(buf, points, 4096)).toEqual(r);
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated and truncated real hellos never throw and stay chunking-independent', () => {
    const arb = fc.nat({ max: 1000 }).chain((i) => {
      const [, wire] = hellos[i % hellos.length]!;
      return fc.tuple(
        fc.constant(wire),
        fc.array(fc.tuple(fc.nat({ max: wire.length - 1 }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: wire.length }),
        fc.array(fc.nat({ max: wire.length }), { maxLength: 10 }),
      );
    });
    fc.assert(
      fc.property(arb, ([wire, edits, cut, points]) => {
        const buf = Buffer.from(wire);
        for (const [at, value] of edits) buf[at] = value;
        const truncated = buf.subarray(0, Math.max(cut, 1));
        const r = parseClientHello(truncated);
        expect(wellFormed(r)).toBe(true);
        expect(chunked(truncated, points, cap)).toEqual(r);
      }),
      { numRuns: 2000 },
    );
  });
});
