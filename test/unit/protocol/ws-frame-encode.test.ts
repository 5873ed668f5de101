// encodeFrame / encodeClose / parseClosePayload, checked against ws and through the scanner.
import { describe, it, expect } from 'vitest';
import {
  WsFrameScanner,
  WsOpcode,
  encodeClose,
  encodeFrame,
  parseClosePayload,
} from '../../../src/protocol/ws-frames.js';
import { Receiver, wsFrame, forwarded, controls, expectBytes, scan } from '../../helpers/ws-frame-scanner.js';

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
    expect(parseClosePayload(encodeClose(1000, '€'.repeat(50), false).subarray(2))).toEqual({
      code: 1000,
      reason: '€'.repeat(41),
    });
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

  it.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999])(
    'code %d is valid',
    (code) => {
      const p = Buffer.alloc(2);
      p.writeUInt16BE(code);
      expect(parseClosePayload(p)).toEqual({ code, reason: '' });
    },
  );

  it('a reason that is not UTF-8 is invalid; a BOM is kept', () => {
    expect(parseClosePayload(Buffer.from([0x03, 0xe8, 0xff]))).toBeNull();
    expect(parseClosePayload(Buffer.from([0x03, 0xe8, 0xe2, 0x82]))).toBeNull();
    expect(parseClosePayload(Buffer.from([0x03, 0xe8, 0xef, 0xbb, 0xbf, 0x61]))).toEqual({
      code: 1000,
      reason: '\ufeffa',
    });
  });
});
