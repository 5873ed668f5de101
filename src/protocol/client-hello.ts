/**
 * Incremental TLS ClientHello parser: fed TCP segments of any size, it walks the TLS record layer,
 * reassembles the ClientHello handshake message across records, and decodes it once the whole
 * message is buffered. No sockets, no timers (DESIGN §1, L1 protocol/).
 *
 * Cost: each push is O(chunk) amortised (one copy into a geometrically grown buffer) plus O(1)
 * bookkeeping; the message is decoded exactly once, so a hello fed one byte at a time is linear.
 */
import { DecodeError } from './byte-reader.js';
import { parseClientHelloBody } from './client-hello-body.js';
import {
  HANDSHAKE_HEADER_LENGTH,
  HandshakeType,
  MAX_RECORD_PAYLOAD,
  RECORD_HEADER_LENGTH,
  RecordType,
} from './tls-constants.js';

export interface ClientHelloInfo {
  /** SNI host_name, lowercased, trailing dot removed; null if absent. */
  serverName: string | null;
  /** ALPN protocol names offered, in client order; [] if none. */
  alpn: readonly string[];
  /**
   * Offered versions ('TLSv1.3', 'TLSv1.2', 'TLSv1.1', 'TLSv1', 'SSLv3') from supported_versions,
   * GREASE and unknown values dropped; without that extension, the body's legacy_version.
   */
  versions: readonly string[];
  /** encrypted_client_hello (0xfe0d) present: this is an ECH outer hello. */
  hasEch: boolean;
  /** Legacy record-layer version of the first record, e.g. 0x0301. */
  recordVersion: number;
  /** Bytes from the start of the stream to the end of the ClientHello message (all records). */
  length: number;
}

export type HelloResult =
  | { readonly status: 'need-more' }
  | { readonly status: 'done'; readonly hello: ClientHelloInfo }
  | { readonly status: 'not-tls' }
  | { readonly status: 'invalid'; readonly detail: string }
  | { readonly status: 'too-large' };

const NEED_MORE: HelloResult = Object.freeze({ status: 'need-more' });
const NOT_TLS: HelloResult = Object.freeze({ status: 'not-tls' });
const TOO_LARGE: HelloResult = Object.freeze({ status: 'too-large' });
const EMPTY = Buffer.alloc(0);
/** RFC 8446 §6 alert descriptions a client sends before its hello when it gives up. */
const ALERT_NAMES: Readonly<Record<number, string>> = {
  0: 'close_notify',
  40: 'handshake_failure',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  90: 'user_canceled',
};
const MIN_GROWTH = 512;

function invalid(detail: string): HelloResult {
  return Object.freeze({ status: 'invalid', detail });
}

export class ClientHelloParser {
  readonly #maxBytes: number;
  /** Bytes pushed live in #buf[0, #len); the first chunk is kept by reference until a second one. */
  #buf: Buffer = EMPTY;
  #len = 0;
  #owned = false;
  #result: HelloResult | null = null;

  // Record walk. Offsets are absolute positions in the stream.
  #inHeader = true;
  #recordStart = 0;
  #payloadStart = 0;
  #payloadEnd = 0;
  #recordVersion = 0;
  /** Payload ranges of records already walked past, for reassembly. */
  readonly #segments: Array<readonly [number, number]> = [];
  /** Handshake bytes in #segments. */
  #hsBefore = 0;
  /** 4 + declared handshake body length, once the handshake header is buffered; else -1. */
  #hsTotal = -1;

  constructor(maxBytes: number) {
    if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`);
    this.#maxBytes = maxBytes;
  }

  /** Every byte pushed so far (a view; valid after later pushes too). */
  get buffered(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }

  /** Total bytes pushed. */
  get bytes(): number {
    return this.#len;
  }

  push(chunk: Buffer): HelloResult {
    this.#append(chunk);
    if (this.#result !== null) return this.#result;
    let result = this.#advance();
    if (result.status === 'need-more' && this.#len >= this.#maxBytes) result = TOO_LARGE;
    if (result.status !== 'need-more') this.#result = result;
    return result;
  }

  #append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#len === 0) {
      this.#buf = chunk;
      this.#len = chunk.length;
      return;
    }
    const needed = this.#len + chunk.length;
    if (!this.#owned || needed > this.#buf.length) {
      const capacity = Math.max(needed, this.#len * 2, MIN_GROWTH);
      const next = Buffer.allocUnsafe(capacity);
      this.#buf.copy(next, 0, 0, this.#len);
      this.#buf = next;
      this.#owned = true;
    }
    chunk.copy(this.#buf, this.#len);
    this.#len = needed;
  }

  /** Walks as far as the buffered bytes allow; returns need-more or a terminal result. */
  #advance(): HelloResult {
    for (;;) {
      if (this.#inHeader) {
        const headerResult = this.#readRecordHeader();
        if (headerResult !== null) return headerResult;
      }
      const available = Math.min(this.#len, this.#payloadEnd) - this.#payloadStart;
      const hsAvailable = this.#hsBefore + available;
      if (this.#hsTotal < 0) {
        // Handshake byte 0 is always the first payload byte of the first record.
        const first = this.#len > RECORD_HEADER_LENGTH ? this.#buf[RECORD_HEADER_LENGTH] : undefined;
        if (first !== undefined && first !== HandshakeType.ClientHello) {
          return invalid(`handshake type ${first} is not client_hello`);
        }
        if (hsAvailable >= HANDSHAKE_HEADER_LENGTH) {
          this.#hsTotal = HANDSHAKE_HEADER_LENGTH + this.#handshakeBodyLength();
          if (this.#minimumTotal() > this.#maxBytes) return TOO_LARGE;
        }
      }
      const recordLength = this.#payloadEnd - this.#payloadStart;
      if (this.#hsTotal >= 0 && this.#hsTotal <= this.#hsBefore + recordLength) {
        const end = this.#payloadStart + (this.#hsTotal - this.#hsBefore);
        return this.#len >= end ? this.#finish(end) : NEED_MORE;
      }
      // The message continues past this record: wait for the whole record, then the next header.
      if (this.#len < this.#payloadEnd) return NEED_MORE;
      this.#segments.push([this.#payloadStart, this.#payloadEnd]);
      this.#hsBefore += recordLength;
      this.#recordStart = this.#payloadEnd;
      this.#inHeader = true;
    }
  }

  /** Reads the record header at #recordStart; null when it is complete and acceptable. */
  #readRecordHeader(): HelloResult | null {
    const start = this.#recordStart;
    const isFirst = start === 0;
    const buf = this.#buf;
    if (start >= this.#len) return NEED_MORE;
    const type = buf[start] ?? -1;
    if (type === RecordType.Alert && isFirst) return this.#firstRecordAlert();
    if (type !== RecordType.Handshake) {
      return isFirst ? NOT_TLS : invalid(`record type ${type} inside the ClientHello`);
    }
    if (start + 1 >= this.#len) return NEED_MORE;
    const major = buf[start + 1] ?? -1;
    if (major !== 3) return isFirst ? NOT_TLS : invalid(`record version major ${major}`);
    if (this.#len - start < RECORD_HEADER_LENGTH) return NEED_MORE;
    const length = buf.readUInt16BE(start + 3);
    if (length === 0 || length > MAX_RECORD_PAYLOAD) return invalid(`record length ${length}`);
    if (isFirst) this.#recordVersion = buf.readUInt16BE(start + 1);
    this.#payloadStart = start + RECORD_HEADER_LENGTH;
    this.#payloadEnd = this.#payloadStart + length;
    this.#inHeader = false;
    if (this.#hsTotal >= 0 && this.#minimumTotal() > this.#maxBytes) return TOO_LARGE;
    return null;
  }

  /**
   * A TLS client that cannot build a hello it may send (no common protocol version under its
   * security level: Node >= 22 with maxVersion TLSv1.1) sends an alert record first. That is a TLS
   * client giving up, not a non-TLS peer: say which alert, so diagnosis does not blame garbage.
   */
  #firstRecordAlert(): HelloResult {
    const buf = this.#buf;
    if (this.#len < 2) return NEED_MORE;
    if (buf[1] !== 3) return NOT_TLS;
    if (this.#len < RECORD_HEADER_LENGTH + 2) return NEED_MORE;
    const level = buf[RECORD_HEADER_LENGTH] === 2 ? 'fatal' : 'warning';
    const code = buf[RECORD_HEADER_LENGTH + 1] ?? -1;
    const name = ALERT_NAMES[code] ?? `alert ${code}`;
    return invalid(`the client sent a TLS ${level} alert (${name}) instead of a ClientHello`);
  }

  /** The 24-bit body length in handshake bytes 1..3, which may straddle records. */
  #handshakeBodyLength(): number {
    return (this.#hsByte(1) << 16) | (this.#hsByte(2) << 8) | this.#hsByte(3);
  }

  /** Byte `index` of the reassembled handshake stream (caller checked it is buffered). */
  #hsByte(index: number): number {
    let offset = index;
    for (const [start, end] of this.#segments) {
      if (offset < end - start) return this.#buf[start + offset] ?? 0;
      offset -= end - start;
    }
    return this.#buf[this.#payloadStart + offset] ?? 0;
  }

  /**
   * Fewest stream bytes that could hold the whole message given the records seen so far: the rest
   * of the current record, then the remainder in records of the largest accepted size.
   */
  #minimumTotal(): number {
    const inCurrent = this.#payloadEnd - this.#payloadStart;
    const beyond = this.#hsTotal - this.#hsBefore - inCurrent;
    if (beyond <= 0) return this.#payloadStart + (this.#hsTotal - this.#hsBefore);
    return this.#payloadEnd + beyond + RECORD_HEADER_LENGTH * Math.ceil(beyond / MAX_RECORD_PAYLOAD);
  }

  /** The whole message is buffered and ends at stream offset `end`: decode it once. */
  #finish(end: number): HelloResult {
    const last = this.#buf.subarray(this.#payloadStart, end);
    const message =
      this.#segments.length === 0
        ? last
        : Buffer.concat([...this.#segments.map(([s, e]) => this.#buf.subarray(s, e)), last]);
    try {
      const fields = parseClientHelloBody(message.subarray(HANDSHAKE_HEADER_LENGTH));
      const hello: ClientHelloInfo = { ...fields, recordVersion: this.#recordVersion, length: end };
      return Object.freeze({ status: 'done', hello: Object.freeze(hello) });
    } catch (err) {
      if (err instanceof DecodeError) return invalid(err.message);
      throw err;
    }
  }
}
