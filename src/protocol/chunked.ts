/**
 * Body framers for HTTP/1.1 (RFC 9112 §6–7). They never copy or decode the body: push() says how
 * many bytes of `buf` belong to the current message, so the caller forwards exactly
 * `buf.subarray(0, consumed)` unchanged and keeps the rest for the next message.
 */

export interface FrameResult {
  consumed: number;
  done: boolean;
  error?: string;
}

export interface ChunkedLimits {
  /** Chunk-size line bytes (size + extensions, CRLF excluded). */
  maxChunkLineBytes: number;
  /** Total trailer section bytes (CRLFs included). */
  maxTrailerBytes: number;
}

const DEFAULT_LIMITS: ChunkedLimits = { maxChunkLineBytes: 1024, maxTrailerBytes: 16 * 1024 };

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const SEMI = 0x3b;
const COLON = 0x3a;

/** Parser states; `as const` per DESIGN §2.11. */
const S = {
  SIZE: 0, // hex digits of chunk-size
  SIZE_WS: 1, // BWS after chunk-size, before ';'
  EXT: 2, // chunk extensions up to CR
  SIZE_LF: 3, // CR seen at end of chunk-size line
  DATA: 4,
  DATA_CR: 5,
  DATA_LF: 6,
  TRAILER_START: 7, // start of a trailer line (or the final CRLF)
  TRAILER_NAME: 8,
  TRAILER_VALUE: 9,
  TRAILER_LF: 10,
  END_LF: 11,
  DONE: 12,
  ERROR: 13,
} as const;
type State = (typeof S)[keyof typeof S];

/** tchar lookup for trailer field names. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TCHAR[c.charCodeAt(0)] = 1;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** Field-value / extension byte: HTAB, SP, VCHAR, obs-text. */
function isTextByte(c: number): boolean {
  return c === HT || (c >= SP && c !== 0x7f);
}

export class ChunkedFramer {
  #state: State = S.SIZE;
  #size = 0;
  #digits = 0;
  #lineBytes = 0;
  #trailerBytes = 0;
  #remaining = 0;
  #error: string | undefined;
  readonly #limits: ChunkedLimits;

  constructor(limits: Partial<ChunkedLimits> = {}) {
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
  }

  get done(): boolean {
    return this.#state === S.DONE;
  }

  push(buf: Buffer): FrameResult {
    if (this.#state === S.DONE) return { consumed: 0, done: true };
    if (this.#state === S.ERROR) return { consumed: 0, done: false, error: this.#error! };
    const len = buf.length;
    let i = 0;
    while (i < len) {
      if (this.#state === S.DATA) {
        const take = Math.min(this.#remaining, len - i);
        this.#remaining -= take;
        i += take;
        if (this.#remaining === 0) this.#state = S.DATA_CR;
        continue;
      }
      const err = this.#step(buf[i]!);
      if (err !== null) return this.#fail(i, err);
      i++;
      if (this.done) return { consumed: i, done: true };
    }
    return { consumed: len, done: false };
  }

  #fail(consumed: number, error: string): FrameResult {
    this.#state = S.ERROR;
    this.#error = error;
    return { consumed, done: false, error };
  }

  /** One byte outside chunk data; returns an error message or null. */
  #step(c: number): string | null {
    switch (this.#state) {
      case S.SIZE: {
        if (++this.#lineBytes > this.#limits.maxChunkLineBytes) return 'chunk-size line too long';
        const h = hexValue(c);
        if (h !== -1) {
          this.#size = this.#size * 16 + h;
          this.#digits++;
          if (this.#size > Number.MAX_SAFE_INTEGER) return 'chunk size too large';
          return null;
        }
        if (this.#digits === 0) return 'invalid chunk size';
        if (c === CR) return this.#to(S.SIZE_LF);
        if (c === SEMI) return this.#to(S.EXT);
        // RFC 9112 §7.1.1 allows BWS before ';', but llhttp (Node) and others refuse it: a body
        // one parser reads and the next cannot is a desync. Refused here too.
        if (c === SP || c === HT) return 'whitespace after chunk size';
        return 'invalid chunk size';
      }
      case S.SIZE_WS:
        if (++this.#lineBytes > this.#limits.maxChunkLineBytes) return 'chunk-size line too long';
        if (c === SEMI) return this.#to(S.EXT);
        if (c === SP || c === HT) return null;
        return 'invalid chunk size';
      case S.EXT:
        if (c === CR) return this.#to(S.SIZE_LF);
        if (++this.#lineBytes > this.#limits.maxChunkLineBytes) return 'chunk-size line too long';
        return isTextByte(c) ? null : 'invalid byte in chunk extension';
      case S.SIZE_LF:
        if (c !== LF) return 'chunk-size line not ended by CRLF';
        if (this.#size === 0) return this.#to(S.TRAILER_START);
        this.#remaining = this.#size;
        this.#size = 0;
        this.#digits = 0;
        this.#lineBytes = 0;
        return this.#to(S.DATA);
      case S.DATA_CR:
        return c === CR ? this.#to(S.DATA_LF) : 'missing CRLF after chunk data';
      case S.DATA_LF:
        return c === LF ? this.#to(S.SIZE) : 'missing CRLF after chunk data';
      default:
        return this.#trailer(c);
    }
  }

  #trailer(c: number): string | null {
    if (++this.#trailerBytes > this.#limits.maxTrailerBytes) return 'trailer section too large';
    switch (this.#state) {
      case S.TRAILER_START:
        if (c === CR) return this.#to(S.END_LF);
        if (c === SP || c === HT) return 'obsolete line folding in trailer';
        return TCHAR[c] === 1 ? this.#to(S.TRAILER_NAME) : 'invalid trailer field name';
      case S.TRAILER_NAME:
        if (c === COLON) return this.#to(S.TRAILER_VALUE);
        return TCHAR[c] === 1 ? null : 'invalid trailer field name';
      case S.TRAILER_VALUE:
        if (c === CR) return this.#to(S.TRAILER_LF);
        return isTextByte(c) ? null : 'invalid byte in trailer value';
      case S.TRAILER_LF:
        return c === LF ? this.#to(S.TRAILER_START) : 'trailer line not ended by CRLF';
      case S.END_LF:
        return c === LF ? this.#to(S.DONE) : 'chunked body not ended by CRLF';
      default:
        return 'framer in unexpected state';
    }
  }

  #to(state: State): null {
    this.#state = state;
    return null;
  }
}

/** Content-Length body: the first `n` bytes pushed belong to the message. */
export class LengthFramer {
  #remaining: number;

  constructor(n: number) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`invalid body length ${n}`);
    this.#remaining = n;
  }

  get remaining(): number {
    return this.#remaining;
  }

  push(buf: Buffer): FrameResult {
    const consumed = Math.min(this.#remaining, buf.length);
    this.#remaining -= consumed;
    return { consumed, done: this.#remaining === 0 };
  }
}
