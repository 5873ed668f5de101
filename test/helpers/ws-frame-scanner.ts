/**
 * Shared by the WsFrameScanner tests (test/unit/protocol/ws-frame*.test.ts): ws's own Sender and
 * Receiver as the reference implementation, a sink that records every call, and `scan()`, which
 * pushes pieces and checks the scanner's no-copy and coalescing promises on every push.
 */
import { expect } from 'vitest';
import * as wsModule from 'ws';
import {
  WsFrameScanner,
  type WsControlFrame,
  type WsScanError,
  type WsScanSink,
} from '../../src/protocol/ws-frames.js';

// @types/ws does not declare the Sender and Receiver classes that ws exports; type what we use.
export interface FrameOptions {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
}
export interface ReceiverLike {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'ping' | 'pong', listener: (data: Buffer) => void): this;
  on(event: 'conclude', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (err: Error & { code?: string }) => void): this;
  write(chunk: Buffer): boolean;
}
export const { Sender, Receiver } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] };
  Receiver: new (opts: { isServer: boolean; maxPayload?: number }) => ReceiverLike;
};

/** A frame as ws's Sender builds it (readOnly: the payload buffer is not masked in place). */
export function wsFrame(
  opcode: number,
  payload: Buffer | string,
  opts: { fin?: boolean; rsv1?: boolean; mask?: boolean } = {},
): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat(
    Sender.frame(data, {
      fin: opts.fin ?? true,
      rsv1: opts.rsv1 ?? false,
      opcode,
      mask: opts.mask ?? false,
      readOnly: true,
    }),
  );
}

export type Event =
  | { t: 'fwd'; chunk: Buffer; start: number; end: number; bytes: Buffer }
  | { t: 'ctl'; frame: WsControlFrame }
  | { t: 'boundary' };

/** Records every sink call; `onBoundary` lets a test react the way a proxy would. */
export class Recorder implements WsScanSink {
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
export function reassemble(events: readonly Event[]): Buffer {
  return Buffer.concat(events.flatMap((e) => (e.t === 'fwd' ? [e.bytes] : e.t === 'ctl' ? [e.frame.raw] : [])));
}

export const forwarded = (events: readonly Event[]): Buffer =>
  Buffer.concat(events.flatMap((e) => (e.t === 'fwd' ? [e.bytes] : [])));
export const controls = (events: readonly Event[]): WsControlFrame[] =>
  events.flatMap((e) => (e.t === 'ctl' ? [e.frame] : []));
export const kinds = (events: readonly Event[]): string => events.map((e) => e.t).join(',');

/** Byte equality without a per-element deep compare (slow on big buffers); hex diff on failure. */
export function expectBytes(actual: Buffer, expected: Buffer): void {
  if (!actual.equals(expected)) expect(actual.toString('hex')).toBe(expected.toString('hex'));
}

export function bytesOf(buf: Buffer): Buffer[] {
  return Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1));
}

/**
 * Pushes each piece, checking per push that forward() got the caller's own chunk and that
 * adjacent forwardable bytes were coalesced. Stops at the first error.
 */
export function scan(
  scanner: WsFrameScanner,
  pieces: readonly Buffer[],
  rec = new Recorder(),
): { events: Event[]; error: WsScanError | null } {
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

export const server = (maxPayloadSize = 0): WsFrameScanner =>
  new WsFrameScanner({ expectMasked: false, maxPayloadSize });
export const client = (maxPayloadSize = 0): WsFrameScanner =>
  new WsFrameScanner({ expectMasked: true, maxPayloadSize });
