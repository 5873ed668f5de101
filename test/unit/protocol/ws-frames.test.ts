import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import * as wsModule from 'ws';
import { splitAt } from '../../helpers/bytes.js';
import {
  WsFrameScanner,
  WsOpcode,
  encodeClose,
  encodeFrame,
  parseClosePayload,
  type WsControlFrame,
  type WsScanError,
  type WsScanSink,
} from '../../../src/protocol/ws-frames.js';

// @types/ws does not declare the Sender and Receiver classes that ws exports; type what we use.
interface FrameOptions {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
}
interface ReceiverLike {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'ping' | 'pong', listener: (data: Buffer) => void): this;
  on(event: 'conclude', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (err: Error & { code?: string }) => void): this;
  write(chunk: Buffer): boolean;
}
const { Sender, Receiver } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] };
  Receiver: new (opts: { isServer: boolean; maxPayload?: number }) => ReceiverLike;
};

/** A frame as ws's Sender builds it (readOnly: the payload buffer is not masked in place). */
function wsFrame(opcode: number, payload: Buffer | string, opts: { fin?: boolean; rsv1?: boolean; mask?: boolean } = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat(Sender.frame(data, { fin: opts.fin ?? true, rsv1: opts.rsv1 ?? false, opcode, mask: opts.mask ?? false, readOnly: true }));
}

type Event =
  | { t: 'fwd'; chunk: Buffer; start: number; end: number; bytes: Buffer }
  | { t: 'ctl'; frame: WsControlFrame }
  | { t: 'boundary' };

/** Records every sink call; `onBoundary` lets a test react the way a proxy would. */
class Recorder implements WsScanSink {
  events: Event[] = [];
  onBoundary: (() => void) | null = null;
  forward(chunk: Buffer, start: number, end: number): void {
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start < end && end <= chunk.length)) {
      throw new Error(`forward(${chunk.length}-byte chunk, ${start}, ${end}) out of bounds or empty`);
    }
    this.events.push({ t: 'fwd', chunk, start, end, bytes: Buffer.from(chunk.subarray(start, end)) });
  }
  control(frame: WsControlFrame): void {
    this.events.push({ t: 'ctl', frame });
  }
  boundary(): void {
    this.events.push({ t: 'boundary' });
    this.onBoundary?.();
  }
  take(): Event[] {
    const e = this.events;
    this.events = [];
    return e;
  }
}

/** Bytes a proxy passing every control frame on would send: forwarded ranges and control raws, in order. */
function reassemble(events: readonly Event[]): Buffer {
  return Buffer.concat(events.flatMap((e) => (e.t === 'fwd' ? [e.bytes] : e.t === 'ctl' ? [e.frame.raw] : [])));
}

const forwarded = (events: readonly Event[]): Buffer => Buffer.concat(events.flatMap((e) => (e.t === 'fwd' ? [e.bytes] : [])));
const controls = (events: readonly Event[]): WsControlFrame[] => events.flatMap((e) => (e.t === 'ctl' ? [e.frame] : []));
const kinds = (events: readonly Event[]): string => events.map((e) => e.t).join(',');

/** Byte equality without a per-element deep compare (slow on big buffers); hex diff on failure. */
function expectBytes(actual: Buffer, expected: Buffer): void {
  if (!actual.equals(expected)) expect(actual.toString('hex')).toBe(expected.toString('hex'));
}


function bytesOf(buf: Buffer): Buffer[] {
  return Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1));
}

/**
 * Pushes each piece, checking per push that forward() got the caller's own chunk and that
 * adjacent forwardable bytes were coalesced. Stops at the first error.
 */
function scan(scanner: WsFrameScanner, pieces: readonly Buffer[], rec = new Recorder()): { events: Event[]; error: WsScanError | null } {
  const events: Event[] = [];
  for (const piece of pieces) {
    const error = scanner.push(piece, rec);
    const got = rec.take();
    for (let k = 0; k < got.length; k++) {
      const e = got[k]!;
      const prev = got[k - 1];
      // The only forward() of something else than the chunk: a held header prefix, first in the push.
      if (e.t === 'fwd' && e.chunk !== piece && k !== 0) throw new Error(`forward() of a copy at event ${k}`);
      if (e.t === 'fwd' && prev?.t === 'fwd' && (prev.chunk === piece || e.start !== 0)) {
        throw new Error(`adjacent forward() calls not coalesced at event ${k}`);
      }
    }
    events.push(...got);
    if (error !== null) return { events, error };
  }
  return { events, error: null };
}

const server = (maxPayloadSize = 0): WsFrameScanner => new WsFrameScanner({ expectMasked: false, maxPayloadSize });
const client = (maxPayloadSize = 0): WsFrameScanner => new WsFrameScanner({ expectMasked: true, maxPayloadSize });

describe('WsFrameScanner forwards data frames without copying', () => {
  it('a chunk of complete data frames is one forward() of the whole chunk', () => {
    const chunk = Buffer.concat([
      wsFrame(1, 'hello'),
      wsFrame(2, Buffer.alloc(300, 7)),
      wsFrame(1, 'frag', { fin: false }),
      wsFrame(0, '', { fin: false }),
      wsFrame(0, 'end'),
      wsFrame(2, Buffer.alloc(0)),
    ]);
    const rec = new Recorder();
    expect(server().push(chunk, rec)).toBeNull();
    expect(rec.events).toHaveLength(1);
    expect(rec.events[0]).toMatchObject({ t: 'fwd', start: 0, end: chunk.length });
    expect((rec.events[0] as { chunk: Buffer }).chunk).toBe(chunk);
  });

  it('masked client frames likewise', () => {
    const chunk = Buffer.concat([wsFrame(1, 'a', { mask: true }), wsFrame(2, Buffer.alloc(70_000, 1), { mask: true })]);
    const s = client();
    const rec = new Recorder();
    expect(s.push(chunk, rec)).toBeNull();
    expect(kinds(rec.events)).toBe('fwd');
    expect(rec.events[0]).toMatchObject({ start: 0, end: chunk.length });
    expect(s.atBoundary).toBe(true);
  });

  it('the middle of a big frame is one forward() of the whole chunk', () => {
    const frame = wsFrame(2, Buffer.alloc(100_000, 3));
    const s = server();
    const { events: first } = scan(s, [frame.subarray(0, 1000)]);
    expect(forwarded(first)).toEqual(frame.subarray(0, 1000));
    expect(s.atBoundary).toBe(false);
    const middle = frame.subarray(1000, 60_000);
    const rec = new Recorder();
    expect(s.push(middle, rec)).toBeNull();
    expect(rec.events).toHaveLength(1);
    expect(rec.events[0]).toMatchObject({ t: 'fwd', start: 0, end: middle.length });
    expect((rec.events[0] as { chunk: Buffer }).chunk).toBe(middle);
    expect(s.push(frame.subarray(60_000), rec)).toBeNull();
    expect(s.atBoundary).toBe(true);
  });

  it('holds a split header until it is complete, then forwards it', () => {
    const frame = wsFrame(2, Buffer.alloc(70_000, 9)); // 10-byte header
    const s = server();
    const rec = new Recorder();
    for (let i = 0; i < 9; i++) {
      expect(s.push(frame.subarray(i, i + 1), rec)).toBeNull();
      expect(rec.events).toEqual([]);
      expect(s.atBoundary).toBe(false);
    }
    const rest = frame.subarray(9, 20);
    expect(s.push(rest, rec)).toBeNull();
    // The held 9 bytes (a copy), then this chunk in one range.
    expect(rec.events.map((e) => (e.t === 'fwd' ? [e.chunk === rest, e.start, e.end] : e.t))).toEqual([
      [false, 0, 9],
      [true, 0, 11],
    ]);
    expectBytes(forwarded(rec.events), frame.subarray(0, 20));
  });

  it('an empty chunk forwards nothing; a bad maxPayloadSize is refused', () => {
    const rec = new Recorder();
    expect(server().push(Buffer.alloc(0), rec)).toBeNull();
    expect(rec.events).toEqual([]);
    expect(() => server(-1)).toThrow(RangeError);
    expect(() => server(1.5)).toThrow(RangeError);
  });

  it('allows RSV1 (permessage-deflate) on data frames', () => {
    const chunk = Buffer.concat([wsFrame(1, 'x', { rsv1: true, fin: false }), wsFrame(0, 'y', { rsv1: true })]);
    const { events, error } = scan(server(), [chunk]);
    expect(error).toBeNull();
    expect(forwarded(events)).toEqual(chunk);
  });
});

describe('WsFrameScanner holds control frames', () => {
  it('an unmasked ping between data frames: forwarded before, held, forwarded after', () => {
    const a = wsFrame(1, 'before');
    const ping = wsFrame(9, 'are you there');
    const b = wsFrame(2, 'after');
    const chunk = Buffer.concat([a, ping, b]);
    const rec = new Recorder();
    expect(server().push(chunk, rec)).toBeNull();
    expect(kinds(rec.events)).toBe('fwd,ctl,fwd');
    expect(rec.events[0]).toMatchObject({ start: 0, end: a.length });
    expect(rec.events[2]).toMatchObject({ start: a.length + ping.length, end: chunk.length });
    const frame = controls(rec.events)[0]!;
    expect(frame.opcode).toBe(WsOpcode.Ping);
    expect(frame.payload.toString()).toBe('are you there');
    expect(frame.raw).toEqual(ping);
  });

  it('a masked close from a client: payload unmasked, raw still masked, code parsed', () => {
    const close = wsFrame(8, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye')]), { mask: true });
    const { events, error } = scan(client(), [Buffer.concat([wsFrame(1, 'x', { mask: true }), close])]);
    expect(error).toBeNull();
    const frame = controls(events)[0]!;
    expect(frame.opcode).toBe(WsOpcode.Close);
    expect(frame.raw).toEqual(close);
    expect(frame.raw.subarray(6)).not.toEqual(frame.payload); // still masked (fails only for a 2^-32 all-zero mask)
    expect(frame.payload).toEqual(Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]));
    expect(parseClosePayload(frame.payload)).toEqual({ code: 1000, reason: 'bye' });
  });

  it('masked pong split into 1-byte pushes; empty ping; 125-byte pong', () => {
    const pong = wsFrame(10, Buffer.from('pong-data'), { mask: true });
    const empty = wsFrame(9, '', { mask: true });
    const full = wsFrame(10, Buffer.alloc(125, 0xab), { mask: true });
    const input = Buffer.concat([pong, empty, full]);
    const { events, error } = scan(client(), bytesOf(input));
    expect(error).toBeNull();
    expect(forwarded(events)).toHaveLength(0);
    const got = controls(events);
    expect(got.map((f) => f.opcode)).toEqual([10, 9, 10]);
    expect(got.map((f) => f.payload)).toEqual([Buffer.from('pong-data'), Buffer.alloc(0), Buffer.alloc(125, 0xab)]);
    expect(got.map((f) => f.raw)).toEqual([pong, empty, full]);
  });

  it('control frames between fragments of a message', () => {
    const input = Buffer.concat([wsFrame(1, 'he', { fin: false }), wsFrame(9, 'p'), wsFrame(0, 'll', { fin: false }), wsFrame(8, ''), wsFrame(0, 'o')]);
    const { events, error } = scan(server(), [input]);
    expect(error).toBeNull();
    expect(kinds(events)).toBe('fwd,ctl,fwd,ctl,fwd');
    expect(reassemble(events)).toEqual(input);
    expect(parseClosePayload(controls(events)[1]!.payload)).toEqual({ code: null, reason: '' });
  });
});

/** A random stream of messages (possibly fragmented) with control frames between frames. */
const payloadArb = fc.oneof(
  { weight: 12, arbitrary: fc.uint8Array({ maxLength: 20 }) },
  { weight: 6, arbitrary: fc.uint8Array({ minLength: 120, maxLength: 400 }) },
  { weight: 1, arbitrary: fc.integer({ min: 65_536, max: 70_000 }).map((n) => new Uint8Array(n).fill(n & 0xff)) },
);
const controlArb = fc.record({ opcode: fc.constantFrom(8, 9, 10), payload: fc.uint8Array({ maxLength: 125 }) });
const messageArb = fc.record({
  opcode: fc.constantFrom(1, 2),
  rsv1: fc.boolean(),
  fragments: fc.array(payloadArb, { minLength: 1, maxLength: 3 }),
  controls: fc.array(controlArb, { maxLength: 2 }),
});
const streamArb = fc.record({ mask: fc.boolean(), messages: fc.array(messageArb, { maxLength: 6 }) });

interface MessageSpec {
  opcode: number;
  rsv1: boolean;
  fragments: Uint8Array[];
  controls: Array<{ opcode: number; payload: Uint8Array }>;
}
interface ExpectedControl {
  opcode: number;
  payload: Buffer;
  raw: Buffer;
}

/** Frames each message (the first fragment followed by its control frames) with ws's Sender. */
function buildStream(spec: { mask: boolean; messages: MessageSpec[] }): { bytes: Buffer; controls: ExpectedControl[] } {
  const parts: Buffer[] = [];
  const ctls: ExpectedControl[] = [];
  for (const m of spec.messages) {
    m.fragments.forEach((f, k) => {
      const last = k === m.fragments.length - 1;
      parts.push(wsFrame(k === 0 ? m.opcode : 0, Buffer.from(f), { fin: last, rsv1: m.rsv1 && k === 0, mask: spec.mask }));
      if (k === 0) {
        for (const c of m.controls) {
          const raw = wsFrame(c.opcode, Buffer.from(c.payload), { mask: spec.mask });
          parts.push(raw);
          ctls.push({ opcode: c.opcode, payload: Buffer.from(c.payload), raw });
        }
      }
    });
  }
  return { bytes: Buffer.concat(parts), controls: ctls };
}

function checkStream(mask: boolean, stream: ReturnType<typeof buildStream>, pieces: readonly Buffer[]): void {
  const s = new WsFrameScanner({ expectMasked: mask, maxPayloadSize: 0 });
  const { events, error } = scan(s, pieces);
  expect(error).toBeNull();
  expect(s.atBoundary).toBe(true);
  expectBytes(reassemble(events), stream.bytes);
  expect(controls(events).map((f) => ({ opcode: f.opcode, payload: f.payload, raw: f.raw }))).toEqual(stream.controls);
}

describe('WsFrameScanner at every split position', () => {
  it('1-byte pushes of a mixed stream reassemble exactly', () => {
    for (const mask of [false, true]) {
      const stream = buildStream({
        mask,
        messages: [
          { opcode: 1, rsv1: false, fragments: [Buffer.from('abc'), Buffer.alloc(200, 1)], controls: [{ opcode: 9, payload: Buffer.from('p') }] },
          { opcode: 2, rsv1: true, fragments: [Buffer.alloc(66_000, 2)], controls: [{ opcode: 10, payload: Buffer.alloc(125, 5) }] },
          { opcode: 2, rsv1: false, fragments: [Buffer.alloc(0), Buffer.alloc(0), Buffer.from('z')], controls: [{ opcode: 8, payload: Buffer.from([3, 0xe8]) }] },
        ],
      });
      checkStream(mask, stream, bytesOf(stream.bytes));
    }
  });

  it('every single split point of a small stream', () => {
    const stream = buildStream({
      mask: true,
      messages: [
        { opcode: 1, rsv1: false, fragments: [Buffer.from('hello'), Buffer.alloc(130, 1)], controls: [{ opcode: 9, payload: Buffer.from('ping') }] },
        { opcode: 2, rsv1: false, fragments: [Buffer.from('x')], controls: [] },
      ],
    });
    for (let a = 0; a <= stream.bytes.length; a++) {
      checkStream(true, stream, splitAt(stream.bytes, [a]));
    }
  });

  it('random streams at random split points (property)', () => {
    fc.assert(
      fc.property(
        streamArb.chain((spec) => {
          const stream = buildStream(spec);
          return fc.tuple(fc.constant(spec.mask), fc.constant(stream), fc.array(fc.nat({ max: stream.bytes.length }), { maxLength: 40 }));
        }),
        ([mask, stream, cuts]) => checkStream(mask, stream, splitAt(stream.bytes, cuts)),
      ),
      { numRuns: 200 },
    );
  });
});

describe('WsFrameScanner payload lengths', () => {
  it.each([0, 125, 126, 65_535, 65_536, 200_000])('%d bytes (7-, 16- or 64-bit length)', (n) => {
    const frame = wsFrame(2, Buffer.alloc(n, 0x5a));
    const expectedHeader = n < 126 ? 2 : n < 65_536 ? 4 : 10;
    expect(frame.length - n).toBe(expectedHeader);
    const s = server();
    // Header alone, then one byte short of the end, then the last byte: boundary only at the end.
    const { events, error } = scan(s, splitAt(frame, [expectedHeader, frame.length - 1]));
    expect(error).toBeNull();
    expectBytes(forwarded(events), frame);
    expect(s.atBoundary).toBe(true);
  });

  it('a 64-bit length of 2^53 - 1 is accepted and tracked (no boundary until it ends)', () => {
    const header = Buffer.from([0x82, 127, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const s = server();
    const { events, error } = scan(s, [Buffer.concat([header, Buffer.alloc(1000)]), Buffer.alloc(5000)]);
    expect(error).toBeNull();
    expect(forwarded(events)).toHaveLength(6010);
    expect(s.atBoundary).toBe(false);
  });

  it('a 64-bit length above 2^53 - 1 is too large even without a limit', () => {
    const { events, error } = scan(server(), [Buffer.from([0x82, 127, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 1, 2])]);
    expect(error).toMatchObject({ code: 'too-large', closeCode: 1009 });
    expect(events).toEqual([]);
  });

  it('a 16-bit length is read big-endian', () => {
    const s = server();
    // 0x0102 = 258 payload bytes; a little-endian reader would expect 513.
    const frame = Buffer.concat([Buffer.from([0x82, 126, 0x01, 0x02]), Buffer.alloc(258), wsFrame(9, 'p')]);
    const { events, error } = scan(s, [frame]);
    expect(error).toBeNull();
    expect(kinds(events)).toBe('fwd,ctl');
    expect(forwarded(events)).toHaveLength(262);
  });
});

describe('WsFrameScanner protocol errors', () => {
  const prefix = Buffer.concat([wsFrame(1, 'ok'), wsFrame(2, Buffer.alloc(130))]);
  const cases: Array<[string, Buffer]> = [
    ['RSV2 set', Buffer.from([0x82 | 0x20, 0x00])],
    ['RSV3 set', Buffer.from([0x82 | 0x10, 0x00])],
    ...[3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map((op): [string, Buffer] => [`opcode ${op}`, Buffer.from([0x80 | op, 0x00])]),
    ['ping without FIN', Buffer.from([0x09, 0x00])],
    ['close without FIN', Buffer.from([0x08, 0x00])],
    ['RSV1 on a control frame', Buffer.from([0xc9, 0x00])],
    ['ping with a 16-bit length', Buffer.concat([Buffer.from([0x89, 126, 0x00, 126]), Buffer.alloc(126)])],
    ['pong with a 64-bit length', Buffer.from([0x8a, 127, 0, 0, 0, 0, 0, 0, 0, 1, 0])],
    ['masked frame from a server', Buffer.from([0x82, 0x81, 1, 2, 3, 4, 5])],
    ['continuation without a message', Buffer.from([0x80, 0x01, 0x61])],
    ['64-bit length with the MSB set', Buffer.from([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 0])],
  ];

  it.each(cases)('%s', (_name, bad) => {
    for (const pieces of [[Buffer.concat([prefix, bad])], bytesOf(Buffer.concat([prefix, bad]))]) {
      const s = server();
      const { events, error } = scan(s, pieces);
      expect(error).toMatchObject({ code: 'protocol', closeCode: 1002, detail: expect.any(String) });
      // Everything before the offending frame was forwarded, nothing of it.
      expect(reassemble(events)).toEqual(prefix);
      // The scanner stays failed and forwards nothing more.
      const rec = new Recorder();
      expect(s.push(wsFrame(1, 'more'), rec)).toBe(error);
      expect(rec.events).toEqual([]);
      expect(s.atBoundary).toBe(false);
    }
  });

  it('unmasked frame from a client', () => {
    const ok = wsFrame(1, 'ok', { mask: true });
    const { events, error } = scan(client(), [Buffer.concat([ok, wsFrame(1, 'bare')])]);
    expect(error).toMatchObject({ code: 'protocol', closeCode: 1002 });
    expect(forwarded(events)).toEqual(ok);
  });

  it('a new text frame inside a fragmented message (control frames between are fine)', () => {
    const good = Buffer.concat([wsFrame(2, 'a', { fin: false }), wsFrame(9, ''), wsFrame(0, 'b', { fin: false })]);
    const { events, error } = scan(server(), [Buffer.concat([good, wsFrame(1, 'new')])]);
    expect(error).toMatchObject({ code: 'protocol', closeCode: 1002 });
    expect(reassemble(events)).toEqual(good);
  });

  it('a continuation after the message ended', () => {
    const good = Buffer.concat([wsFrame(1, 'a', { fin: false }), wsFrame(0, 'b')]);
    const { events, error } = scan(server(), [good, wsFrame(0, 'c')]);
    expect(error).toMatchObject({ code: 'protocol' });
    expect(forwarded(events)).toEqual(good);
  });

  it('never throws and never forwards out of bounds on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat({ max: 300 }), { maxLength: 10 }), fc.boolean(), fc.nat({ max: 200 }), (bytes, cuts, mask, max) => {
        const s = new WsFrameScanner({ expectMasked: mask, maxPayloadSize: max });
        s.wantBoundary = true;
        const input = Buffer.from(bytes);
        const rec = new Recorder();
        rec.onBoundary = () => {
          s.wantBoundary = true;
        };
        let failed: WsScanError | null = null;
        for (const piece of splitAt(input, cuts)) {
          const r = s.push(piece, rec); // Recorder checks the bounds of every forward()
          if (failed !== null) expect(r).toBe(failed);
          failed ??= r;
        }
        // Whatever was let through is a prefix of the input, in order.
        const out = reassemble(rec.events);
        expect(input.subarray(0, out.length)).toEqual(out);
      }),
      { numRuns: 500 },
    );
  });
});

describe('WsFrameScanner maxPayloadSize', () => {
  it('rejects a single frame over the limit before forwarding any of it', () => {
    const ok = wsFrame(2, Buffer.alloc(100));
    const { events, error } = scan(server(100), [Buffer.concat([ok, wsFrame(2, Buffer.alloc(101))])]);
    expect(error).toMatchObject({ code: 'too-large', closeCode: 1009 });
    expect(forwarded(events)).toEqual(ok);
  });

  it('counts all fragments of a message, not control frames, and resets per message', () => {
    const within = Buffer.concat([
      wsFrame(1, Buffer.alloc(40), { fin: false }),
      wsFrame(9, Buffer.alloc(100)),
      wsFrame(0, Buffer.alloc(60)), // 100 in all: at the limit
      wsFrame(2, Buffer.alloc(70), { fin: false }), // new message: count restarts
    ]);
    const s = server(100);
    const first = scan(s, [within]);
    expect(first.error).toBeNull();
    const over = wsFrame(0, Buffer.alloc(31), { fin: true }); // 70 + 31 > 100
    const second = scan(s, [over]);
    expect(second.error).toMatchObject({ code: 'too-large', closeCode: 1009 });
    expect(second.events).toEqual([]);
  });

  it('checks a split header only when it is complete, forwarding none of the frame', () => {
    const frame = wsFrame(2, Buffer.alloc(70_000), { mask: true });
    const { events, error } = scan(client(65_536), bytesOf(frame.subarray(0, 20)));
    expect(error).toMatchObject({ code: 'too-large' });
    expect(events).toEqual([]);
  });
});

describe('WsFrameScanner boundaries', () => {
  it('fires at the start of a chunk when already at a boundary, before forwarding', () => {
    const s = server();
    s.wantBoundary = true;
    const chunk = Buffer.concat([wsFrame(1, 'a'), wsFrame(1, 'b')]);
    const { events } = scan(s, [chunk]);
    expect(kinds(events)).toBe('boundary,fwd');
    expect(events[1]).toMatchObject({ start: 0, end: chunk.length });
    expect(s.wantBoundary).toBe(false);
  });

  it('requested inside a big frame, fires only after it (everything before it forwarded)', () => {
    const big = wsFrame(2, Buffer.alloc(10_000, 1));
    const next = wsFrame(1, 'next');
    const s = server();
    const rec = new Recorder();
    s.push(big.subarray(0, 3000), rec);
    expect(kinds(rec.take())).toBe('fwd');
    s.wantBoundary = true;
    s.push(big.subarray(3000, 9000), rec);
    expect(kinds(rec.take())).toBe('fwd');
    expect(s.wantBoundary).toBe(true);
    const tail = Buffer.concat([big.subarray(9000), next]);
    s.push(tail, rec);
    const ev = rec.take();
    expect(kinds(ev)).toBe('fwd,boundary,fwd');
    expect(ev[0]).toMatchObject({ start: 0, end: big.length - 9000 });
    expect(ev[2]).toMatchObject({ start: big.length - 9000, end: tail.length });
    expect(s.wantBoundary).toBe(false);
  });

  it('fires at the end of a chunk that ends a frame', () => {
    const frame = wsFrame(2, Buffer.alloc(500));
    const s = server();
    const rec = new Recorder();
    s.push(frame.subarray(0, 100), rec);
    s.wantBoundary = true;
    s.push(frame.subarray(100), rec);
    expect(kinds(rec.events)).toBe('fwd,fwd,boundary');
  });

  it('not in the middle of a split header', () => {
    const frame = wsFrame(2, Buffer.alloc(300)); // 4-byte header
    const s = server();
    const rec = new Recorder();
    s.push(frame.subarray(0, 1), rec);
    expect(s.atBoundary).toBe(false);
    s.wantBoundary = true;
    s.push(frame.subarray(1, 3), rec);
    expect(rec.events).toEqual([]);
    s.push(frame.subarray(3), rec);
    expect(kinds(rec.events)).toBe('fwd,fwd,boundary');
  });

  it('right after a held control frame completes', () => {
    const ping = wsFrame(9, 'abc', { mask: true });
    const s = client();
    const rec = new Recorder();
    s.push(ping.subarray(0, 4), rec);
    s.wantBoundary = true;
    s.push(Buffer.concat([ping.subarray(4), wsFrame(1, 'x', { mask: true })]), rec);
    expect(kinds(rec.events)).toBe('ctl,boundary,fwd');
  });

  it('re-armed inside boundary(), fires at each following boundary, never twice at one', () => {
    const frames = [wsFrame(1, 'a'), wsFrame(9, 'p'), wsFrame(2, Buffer.alloc(200))];
    const chunk = Buffer.concat(frames);
    const s = server();
    const rec = new Recorder();
    rec.onBoundary = () => {
      s.wantBoundary = true;
    };
    s.wantBoundary = true;
    expect(s.push(chunk, rec)).toBeNull();
    expect(kinds(rec.events)).toBe('boundary,fwd,boundary,ctl,boundary,fwd,boundary');
  });

  it('a proxy injecting pings at boundaries produces a stream ws accepts', () => {
    const msgs = [Buffer.alloc(3000, 1), Buffer.from('two'), Buffer.alloc(70_000, 3)];
    const input = Buffer.concat([wsFrame(2, msgs[0]!), wsFrame(1, msgs[1]!, { fin: false }), wsFrame(0, ''), wsFrame(2, msgs[2]!)]);
    const s = server();
    const out: Buffer[] = [];
    const sink: WsScanSink = {
      forward: (chunk, start, end) => out.push(chunk.subarray(start, end)),
      control: (frame) => out.push(frame.raw),
      boundary: () => out.push(encodeFrame(WsOpcode.Ping, Buffer.from('sightline'), false)),
    };
    for (const piece of splitAt(input, [1, 2500, 3005, 3010, 3011, 50_000])) {
      s.wantBoundary = true;
      expect(s.push(piece, sink)).toBeNull();
    }
    const receiver = new Receiver({ isServer: false });
    const got: Buffer[] = [];
    let pings = 0;
    receiver.on('message', (d) => got.push(Buffer.from(d)));
    const errors: Error[] = [];
    receiver.on('ping', () => pings++);
    receiver.on('error', (e) => errors.push(e));
    receiver.write(Buffer.concat(out));
    expect(errors).toEqual([]);
    expect(got).toHaveLength(msgs.length);
    got.forEach((m, k) => expectBytes(m, msgs[k]!));
    expect(pings).toBeGreaterThan(2);
  });
});

describe('encodeFrame / encodeClose', () => {
  it.each([
    [0, false],
    [125, true],
    [126, false],
    [65_535, true],
    [65_536, false],
    [65_536, true],
  ])('a %d-byte frame (masked: %s) matches ws and round-trips through the scanner', (n, mask) => {
    const payload = Buffer.alloc(n);
    for (let i = 0; i < n; i++) payload[i] = (i * 7) & 0xff;
    const frame = encodeFrame(WsOpcode.Binary, payload, mask);
    const reference = wsFrame(2, payload, { mask });
    expect(frame.length).toBe(reference.length);
    const headerLen = reference.length - n;
    expect(frame.subarray(0, headerLen - (mask ? 4 : 0))).toEqual(reference.subarray(0, headerLen - (mask ? 4 : 0)));
    if (!mask) expectBytes(frame, reference);
    const { events, error } = scan(new WsFrameScanner({ expectMasked: mask, maxPayloadSize: 0 }), [frame]);
    expect(error).toBeNull();
    expectBytes(forwarded(events), frame);

    const receiver = new Receiver({ isServer: mask });
    const got: Buffer[] = [];
    receiver.on('message', (d) => got.push(Buffer.from(d)));
    receiver.write(frame);
    expect(got).toHaveLength(1);
    expectBytes(got[0]!, payload);
  });

  it('encodeFrame uses a fresh random mask', () => {
    const a = encodeFrame(WsOpcode.Text, Buffer.from('same'), true);
    const b = encodeFrame(WsOpcode.Text, Buffer.from('same'), true);
    const c = encodeFrame(WsOpcode.Text, Buffer.from('same'), true);
    expect(a.subarray(2, 6).equals(b.subarray(2, 6)) && b.subarray(2, 6).equals(c.subarray(2, 6))).toBe(false);
  });

  it('encodeFrame rejects bad opcodes and oversized control payloads', () => {
    expect(() => encodeFrame(16, Buffer.alloc(0), false)).toThrow(RangeError);
    expect(() => encodeFrame(WsOpcode.Ping, Buffer.alloc(126), false)).toThrow(RangeError);
  });

  it.each([false, true])('encodeClose (masked: %s) is held by the scanner and parsed back; ws accepts it', (mask) => {
    const frame = encodeClose(1001, 'going away', mask);
    const { events, error } = scan(new WsFrameScanner({ expectMasked: mask, maxPayloadSize: 0 }), [frame]);
    expect(error).toBeNull();
    const got = controls(events)[0]!;
    expect(got.opcode).toBe(WsOpcode.Close);
    expect(got.raw).toEqual(frame);
    expect(parseClosePayload(got.payload)).toEqual({ code: 1001, reason: 'going away' });

    const receiver = new Receiver({ isServer: mask });
    let concluded: [number, string] | null = null;
    receiver.on('conclude', (code, reason) => {
      concluded = [code, reason.toString()];
    });
    receiver.write(frame);
    expect(concluded).toEqual([1001, 'going away']);
  });

  it('encodeClose truncates the reason to 123 bytes without splitting a character', () => {
    const ascii = encodeClose(1000, 'x'.repeat(200), false);
    expect(ascii.length).toBe(2 + 125);
    expect(parseClosePayload(ascii.subarray(2))).toEqual({ code: 1000, reason: 'x'.repeat(123) });
    // '€' is 3 bytes: 41 fit in 123 bytes exactly; with one ASCII byte first only 40 fit (121 bytes).
    expect(parseClosePayload(encodeClose(1000, '€'.repeat(50), false).subarray(2))).toEqual({ code: 1000, reason: '€'.repeat(41) });
    const shifted = encodeClose(1000, 'a' + '€'.repeat(50), false);
    expect(shifted.length).toBe(2 + 2 + 1 + 120);
    expect(parseClosePayload(shifted.subarray(2))).toEqual({ code: 1000, reason: 'a' + '€'.repeat(40) });
    // 4-byte characters.
    const plain = encodeClose(4000, '😀'.repeat(40), false);
    expect(parseClosePayload(plain.subarray(2))).toEqual({ code: 4000, reason: '😀'.repeat(30) });
  });

  it('encodeClose rejects codes that may not be sent', () => {
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 1000.5]) {
      expect(() => encodeClose(code, '', false)).toThrow(RangeError);
    }
    expect(encodeClose(1000, '', false)).toEqual(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
  });
});

describe('parseClosePayload', () => {
  it('code and reason', () => {
    expect(parseClosePayload(Buffer.from([0x03, 0xe8, 0x68, 0x69]))).toEqual({ code: 1000, reason: 'hi' });
    expect(parseClosePayload(Buffer.from([0x03, 0xf3]))).toEqual({ code: 1011, reason: '' });
  });

  it('empty payload: no status code', () => {
    expect(parseClosePayload(Buffer.alloc(0))).toEqual({ code: null, reason: '' });
  });

  it('a 1-byte payload is invalid', () => {
    expect(parseClosePayload(Buffer.from([0x03]))).toBeNull();
  });

  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65_535])('code %d is invalid', (code) => {
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code);
    expect(parseClosePayload(p)).toBeNull();
  });

  it.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999])('code %d is valid', (code) => {
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code);
    expect(parseClosePayload(p)).toEqual({ code, reason: '' });
  });

  it('a reason that is not UTF-8 is invalid; a BOM is kept', () => {
    expect(parseClosePayload(Buffer.from([0x03, 0xe8, 0xff]))).toBeNull();
    expect(parseClosePayload(Buffer.from([0x03, 0xe8, 0xe2, 0x82]))).toBeNull();
    expect(parseClosePayload(Buffer.from([0x03, 0xe8, 0xef, 0xbb, 0xbf, 0x61]))).toEqual({ code: 1000, reason: '\ufeffa' });
  });
});
