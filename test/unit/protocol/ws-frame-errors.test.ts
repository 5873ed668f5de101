// WsFrameScanner: what it refuses (protocol errors, maxPayloadSize), and that it fails cleanly.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { splitAt } from '../../helpers/bytes.js';
import { WsFrameScanner, type WsScanError } from '../../../src/protocol/ws-frames.js';
import {
  wsFrame,
  Recorder,
  reassemble,
  forwarded,
  bytesOf,
  scan,
  server,
  client,
} from '../../helpers/ws-frame-scanner.js';

describe('WsFrameScanner protocol errors', () => {
  const prefix = Buffer.concat([wsFrame(1, 'ok'), wsFrame(2, Buffer.alloc(130))]);
  const cases: Array<[string, Buffer]> = [
    ['RSV2 set', Buffer.from([0x82 | 0x20, 0x00])],
    ['RSV3 set', Buffer.from([0x82 | 0x10, 0x00])],
    ...[3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map((op): [string, Buffer] => [
      `opcode ${op}`,
      Buffer.from([0x80 | op, 0x00]),
    ]),
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
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat({ max: 300 }), { maxLength: 10 }),
        fc.boolean(),
        fc.nat({ max: 200 }),
        (bytes, cuts, mask, max) => {
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
        },
      ),
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
