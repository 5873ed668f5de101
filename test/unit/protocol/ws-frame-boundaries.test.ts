// WsFrameScanner boundaries: where a proxy may inject its own frames without breaking the stream.
import { describe, it, expect } from 'vitest';
import { splitAt } from '../../helpers/bytes.js';
import { WsOpcode, encodeFrame, type WsScanSink } from '../../../src/protocol/ws-frames.js';
import {
  Receiver,
  wsFrame,
  Recorder,
  kinds,
  expectBytes,
  scan,
  server,
  client,
} from '../../helpers/ws-frame-scanner.js';

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
    const input = Buffer.concat([
      wsFrame(2, msgs[0]!),
      wsFrame(1, msgs[1]!, { fin: false }),
      wsFrame(0, ''),
      wsFrame(2, msgs[2]!),
    ]);
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
