// WsFrameScanner: data frames forwarded without copying, control frames held, any split point, payload lengths.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { splitAt } from '../../helpers/bytes.js';
import { WsFrameScanner, WsOpcode, parseClosePayload } from '../../../src/protocol/ws-frames.js';
import {
  wsFrame,
  Recorder,
  reassemble,
  forwarded,
  controls,
  kinds,
  expectBytes,
  bytesOf,
  scan,
  server,
  client,
} from '../../helpers/ws-frame-scanner.js';

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
    const input = Buffer.concat([
      wsFrame(1, 'he', { fin: false }),
      wsFrame(9, 'p'),
      wsFrame(0, 'll', { fin: false }),
      wsFrame(8, ''),
      wsFrame(0, 'o'),
    ]);
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
      parts.push(
        wsFrame(k === 0 ? m.opcode : 0, Buffer.from(f), { fin: last, rsv1: m.rsv1 && k === 0, mask: spec.mask }),
      );
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
          {
            opcode: 1,
            rsv1: false,
            fragments: [Buffer.from('abc'), Buffer.alloc(200, 1)],
            controls: [{ opcode: 9, payload: Buffer.from('p') }],
          },
          {
            opcode: 2,
            rsv1: true,
            fragments: [Buffer.alloc(66_000, 2)],
            controls: [{ opcode: 10, payload: Buffer.alloc(125, 5) }],
          },
          {
            opcode: 2,
            rsv1: false,
            fragments: [Buffer.alloc(0), Buffer.alloc(0), Buffer.from('z')],
            controls: [{ opcode: 8, payload: Buffer.from([3, 0xe8]) }],
          },
        ],
      });
      checkStream(mask, stream, bytesOf(stream.bytes));
    }
  });

  it('every single split point of a small stream', () => {
    const stream = buildStream({
      mask: true,
      messages: [
        {
          opcode: 1,
          rsv1: false,
          fragments: [Buffer.from('hello'), Buffer.alloc(130, 1)],
          controls: [{ opcode: 9, payload: Buffer.from('ping') }],
        },
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
          return fc.tuple(
            fc.constant(spec.mask),
            fc.constant(stream),
            fc.array(fc.nat({ max: stream.bytes.length }), { maxLength: 40 }),
          );
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
