/**
 * WebSocket framing (RFC 6455 §5) for a proxy that relays frames unchanged but watches them.
 * WsFrameScanner never re-frames or copies data: bytes of data frames come back as ranges of the
 * caller's own chunks (one forward() per run of them), while control frames (close, ping, pong;
 * at most 131 bytes) are held until complete and handed over whole, so the caller can read them
 * and forward or drop them. The caller can also ask to be told at the next frame boundary, the
 * only place it may inject a frame of its own. A frame header is not passed on until it is
 * complete and valid, so after an error the peer's stream still ends on a frame boundary.
 * Pure: Buffer in, callbacks out; no sockets, no timers.
 */
import { randomFillSync } from 'node:crypto';

export const WsOpcode = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

export interface WsControlFrame {
  readonly opcode: 8 | 9 | 10;
  /** Unmasked payload (a copy; at most 125 bytes). */
  readonly payload: Buffer;
  /** The whole frame exactly as received (still masked if it was masked): forward this to pass it on. */
  readonly raw: Buffer;
}

/**
 * Where a scanner's output goes. One sink serves every scanner of a kind: each call names the
 * scanner's `owner` (the relay's connection), so no sink or closure is made per stream.
 */
export interface WsScanSink<T = unknown> {
  /** Pass bytes [start, end) of chunk on unchanged. Consecutive forwardable bytes of one push() are given in one call. */
  forward(chunk: Buffer, start: number, end: number, owner: T | null): void;
  /** A complete control frame. Its bytes were NOT forwarded; the sink forwards `raw` or drops it. */
  control(frame: WsControlFrame, owner: T | null): void;
  /** Called at the next frame boundary while `wantBoundary` is true (after forwarding everything before it); the scanner clears wantBoundary before calling. */
  boundary(owner: T | null): void;
}

export interface WsScanError {
  readonly code: 'protocol' | 'too-large';
  readonly detail: string;
  /** The close code to send: 1002 protocol error, 1009 message too big. */
  readonly closeCode: 1002 | 1009;
}

const FIN = 0x80;
const RSV1 = 0x40;
const RSV23 = 0x30;
const MASK = 0x80;
const MAX_HEADER = 14;
const MAX_CONTROL_PAYLOAD = 125;
/** Largest high word of a 64-bit length that keeps it within Number.MAX_SAFE_INTEGER (2^53 - 1). */
const MAX_SAFE_HIGH_WORD = 0x1fffff;

/** Scanner states; `as const` per DESIGN §2.11. */
const S = {
  HEADER: 0, // reading a frame header into #hdr (hdrLen 0: at a frame boundary)
  DATA: 1, // inside the payload of a data frame: forwarded as it arrives
  CONTROL: 2, // inside the payload of a control frame: held in #control
  ERROR: 3,
} as const;
type State = (typeof S)[keyof typeof S];

function protocolError(detail: string): WsScanError {
  return { code: 'protocol', detail, closeCode: 1002 };
}

function tooLarge(detail: string): WsScanError {
  return { code: 'too-large', detail, closeCode: 1009 };
}

function isControl(opcode: number): opcode is 8 | 9 | 10 {
  return opcode === 8 || opcode === 9 || opcode === 10;
}

export class WsFrameScanner<T = unknown> {
  /** Set by the caller to be told (sink.boundary) at the next frame boundary. */
  wantBoundary = false;
  /** Handed to every sink call (null: none given). */
  readonly owner: T | null;

  readonly #expectMasked: boolean;
  readonly #maxPayload: number;
  /** Header bytes read so far; kept across pushes when a header is split. */
  readonly #hdr = Buffer.alloc(MAX_HEADER);
  #hdrLen = 0;
  #hdrNeed = 2;
  #state: State = S.HEADER;
  /** Payload bytes left in the current frame. */
  #remaining = 0;
  /** A fragmented text/binary message is in progress (its FIN frame not yet seen). */
  #inMessage = false;
  /** Payload bytes of the current message so far (all its frames). */
  #messageBytes = 0;
  /** The control frame being held (header copied in, payload filled as it arrives). */
  #control: Buffer | null = null;
  #controlFill = 0;
  #error: WsScanError | null = null;
  /** Pending forward range [#fwdStart, #fwdEnd) of the chunk being pushed; -1: none. */
  #fwdStart = -1;
  #fwdEnd = -1;

  constructor(opts: { expectMasked: boolean; maxPayloadSize: number; owner?: T }) {
    if (!Number.isSafeInteger(opts.maxPayloadSize) || opts.maxPayloadSize < 0) {
      throw new RangeError(`invalid maxPayloadSize ${opts.maxPayloadSize}`);
    }
    this.#expectMasked = opts.expectMasked;
    this.#maxPayload = opts.maxPayloadSize;
    this.owner = opts.owner ?? null;
  }

  /** True when no frame is partly read (the next byte starts a frame). False after an error. */
  get atBoundary(): boolean {
    return this.#state === S.HEADER && this.#hdrLen === 0;
  }

  /** Scan one chunk. Returns null, or the first error (after which the scanner must not be used; bytes of the offending frame are not forwarded). */
  push(chunk: Buffer, sink: WsScanSink<T>): WsScanError | null {
    if (this.#error !== null) return this.#error;
    const len = chunk.length;
    /** Header bytes carried over from earlier pushes (only the first header of a chunk can have any). */
    let carried = this.#hdrLen;
    let i = 0;
    this.#fwdStart = -1;
    for (;;) {
      // At most once per position: every step below consumes at least one byte.
      if (this.wantBoundary && this.#state === S.HEADER && this.#hdrLen === 0) {
        this.#flush(chunk, sink);
        this.wantBoundary = false;
        sink.boundary(this.owner);
      }
      if (i >= len) break;
      if (this.#state === S.DATA) {
        const take = Math.min(this.#remaining, len - i);
        this.#extend(chunk, sink, i, i + take);
        this.#remaining -= take;
        i += take;
        if (this.#remaining === 0) this.#state = S.HEADER;
      } else if (this.#state === S.CONTROL) {
        const take = Math.min(this.#remaining, len - i);
        chunk.copy(this.#control!, this.#controlFill, i, i + take);
        this.#controlFill += take;
        this.#remaining -= take;
        i += take;
        if (this.#remaining === 0) this.#emitControl(chunk, sink);
      } else {
        const err = this.#headerByte(chunk[i]!);
        i++;
        if (err !== null) return this.#fail(chunk, sink, err);
        if (this.#hdrLen === this.#hdrNeed) {
          const done = this.#headerDone(chunk, sink, i, carried);
          carried = 0;
          if (done !== null) return this.#fail(chunk, sink, done);
        }
      }
    }
    this.#flush(chunk, sink);
    return null;
  }

  /** Adds [start, end) of chunk to the pending forward range (flushing it first if not adjacent). */
  #extend(chunk: Buffer, sink: WsScanSink<T>, start: number, end: number): void {
    if (start === end) return;
    if (this.#fwdStart !== -1 && this.#fwdEnd === start) {
      this.#fwdEnd = end;
      return;
    }
    this.#flush(chunk, sink);
    this.#fwdStart = start;
    this.#fwdEnd = end;
  }

  #flush(chunk: Buffer, sink: WsScanSink<T>): void {
    if (this.#fwdStart === -1) return;
    const start = this.#fwdStart;
    this.#fwdStart = -1;
    sink.forward(chunk, start, this.#fwdEnd, this.owner);
  }

  #fail(chunk: Buffer, sink: WsScanSink<T>, err: WsScanError): WsScanError {
    this.#state = S.ERROR;
    this.#error = err;
    this.#control = null;
    this.#flush(chunk, sink); // bytes before the offending frame
    return err;
  }

  /** One header byte; validates bytes 0 and 1 as soon as they arrive. */
  #headerByte(c: number): WsScanError | null {
    const n = this.#hdrLen;
    this.#hdr[n] = c;
    this.#hdrLen = n + 1;
    if (n === 0) return this.#checkFirstByte(c);
    if (n === 1) return this.#checkSecondByte(c);
    return null;
  }

  #checkFirstByte(c: number): WsScanError | null {
    if ((c & RSV23) !== 0) return protocolError('RSV2 or RSV3 bit set');
    const opcode = c & 0x0f;
    if (isControl(opcode)) {
      if ((c & FIN) === 0) return protocolError('fragmented control frame');
      if ((c & RSV1) !== 0) return protocolError('RSV1 bit set on a control frame');
      return null;
    }
    if (opcode === WsOpcode.Continuation) {
      return this.#inMessage ? null : protocolError('continuation frame without a message in progress');
    }
    if (opcode === WsOpcode.Text || opcode === WsOpcode.Binary) {
      return this.#inMessage ? protocolError('new data frame while a fragmented message is in progress') : null;
    }
    return protocolError(`unknown opcode ${opcode}`);
  }

  #checkSecondByte(c: number): WsScanError | null {
    const masked = (c & MASK) !== 0;
    if (masked !== this.#expectMasked) {
      return protocolError(
        this.#expectMasked ? 'unmasked frame where masking is required' : 'masked frame where masking is forbidden',
      );
    }
    const len7 = c & 0x7f;
    if (isControl(this.#hdr[0]! & 0x0f) && len7 > MAX_CONTROL_PAYLOAD) {
      return protocolError('control frame payload over 125 bytes');
    }
    this.#hdrNeed = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    return null;
  }

  /**
   * The header is complete; `end` is the index just past its last byte in chunk, `carried` how
   * many of its bytes came in earlier pushes.
   */
  #headerDone(chunk: Buffer, sink: WsScanSink<T>, end: number, carried: number): WsScanError | null {
    const hdr = this.#hdr;
    const need = this.#hdrNeed;
    const b0 = hdr[0]!;
    const len7 = hdr[1]! & 0x7f;
    let payloadLen: number;
    if (len7 === 126) {
      payloadLen = hdr.readUInt16BE(2);
    } else if (len7 === 127) {
      const high = hdr.readUInt32BE(2);
      if (high >= 0x80000000) return protocolError('64-bit payload length has its most significant bit set');
      if (high > MAX_SAFE_HIGH_WORD) return tooLarge('payload length above 2^53 - 1');
      payloadLen = high * 0x100000000 + hdr.readUInt32BE(6);
    } else {
      payloadLen = len7;
    }
    const opcode = b0 & 0x0f;
    this.#hdrLen = 0;
    this.#hdrNeed = 2;
    this.#remaining = payloadLen;

    if (isControl(opcode)) {
      const raw = Buffer.allocUnsafe(need + payloadLen);
      hdr.copy(raw, 0, 0, need);
      this.#control = raw;
      this.#controlFill = need;
      this.#state = S.CONTROL;
      if (payloadLen === 0) this.#emitControl(chunk, sink);
      return null;
    }

    const total = opcode === WsOpcode.Continuation ? this.#messageBytes + payloadLen : payloadLen;
    if (this.#maxPayload > 0 && total > this.#maxPayload) {
      return tooLarge(`message of at least ${total} bytes exceeds the limit of ${this.#maxPayload}`);
    }
    this.#messageBytes = total;
    this.#inMessage = (b0 & FIN) === 0;
    if (carried > 0) {
      // The start of this header came in an earlier push and was held: pass on a copy of it
      // (the header buffer is reused, and the sink may keep what it is given).
      this.#flush(chunk, sink);
      sink.forward(Buffer.from(hdr.subarray(0, carried)), 0, carried, this.owner);
    }
    this.#extend(chunk, sink, end - (need - carried), end);
    this.#state = payloadLen > 0 ? S.DATA : S.HEADER;
    return null;
  }

  /** The held control frame is complete: forward what precedes it, then hand it over. */
  #emitControl(chunk: Buffer, sink: WsScanSink<T>): void {
    const raw = this.#control!;
    this.#control = null;
    this.#state = S.HEADER;
    this.#flush(chunk, sink);
    const masked = (raw[1]! & MASK) !== 0;
    const start = masked ? 6 : 2;
    const payload = Buffer.allocUnsafe(raw.length - start);
    for (let k = 0; k < payload.length; k++) {
      payload[k] = masked ? raw[start + k]! ^ raw[2 + (k & 3)]! : raw[start + k]!;
    }
    sink.control({ opcode: (raw[0]! & 0x0f) as 8 | 9 | 10, payload, raw }, this.owner);
  }
}

/** Encode one unfragmented frame (FIN set). mask=true: frame from a client (random 4-byte mask). */
export function encodeFrame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 15) throw new RangeError(`invalid opcode ${opcode}`);
  const len = payload.length;
  if (opcode >= 8 && len > MAX_CONTROL_PAYLOAD) throw new RangeError(`control frame payload of ${len} bytes (max 125)`);
  const lenBytes = len > 0xffff ? 8 : len > MAX_CONTROL_PAYLOAD ? 2 : 0;
  const start = 2 + lenBytes + (mask ? 4 : 0);
  const out = Buffer.allocUnsafe(start + len);
  out[0] = FIN | opcode;
  out[1] = (mask ? MASK : 0) | (lenBytes === 8 ? 127 : lenBytes === 2 ? 126 : len);
  if (lenBytes === 2) {
    out.writeUInt16BE(len, 2);
  } else if (lenBytes === 8) {
    out.writeUInt32BE(Math.floor(len / 0x100000000), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  if (!mask) {
    payload.copy(out, start);
    return out;
  }
  const keyAt = start - 4;
  randomFillSync(out, keyAt, 4);
  for (let k = 0; k < len; k++) out[start + k] = payload[k]! ^ out[keyAt + (k & 3)]!;
  return out;
}

/** Close codes that may appear on the wire (RFC 6455 §7.4, IANA registry; 1004–1006 and 1015 never do). */
function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
  );
}

/** A close frame with a status code and optional UTF-8 reason (truncated so the payload stays <= 125 bytes). */
export function encodeClose(code: number, reason: string, mask: boolean): Buffer {
  if (!Number.isInteger(code) || !isValidCloseCode(code)) throw new RangeError(`invalid close code ${code}`);
  const text = Buffer.from(reason, 'utf8');
  let cut = Math.min(text.length, MAX_CONTROL_PAYLOAD - 2);
  // Do not split a UTF-8 sequence: back up to the start of the character at the cut.
  if (cut < text.length) while (cut > 0 && (text[cut]! & 0xc0) === 0x80) cut--;
  const payload = Buffer.allocUnsafe(2 + cut);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2, 0, cut);
  return encodeFrame(WsOpcode.Close, payload, mask);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decode a close frame payload: empty -> { code: null, reason: '' } (no status; reported as 1005).
 * A 1-byte payload, a code that may not be sent, or a reason that is not UTF-8 -> null.
 */
export function parseClosePayload(payload: Buffer): { code: number | null; reason: string } | null {
  if (payload.length === 0) return { code: null, reason: '' };
  if (payload.length < 2) return null;
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code)) return null;
  try {
    return { code, reason: UTF8.decode(payload.subarray(2)) };
  } catch {
    return null;
  }
}
