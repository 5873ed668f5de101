/**
 * Finds where an HTTP/1.1 head ends as its bytes arrive, in O(n) over the whole head whatever the
 * segmentation (each byte is looked at once; a partial head is appended to one growing buffer,
 * never concatenated again per chunk).
 *
 * The decision is the same however the bytes are split: every check here is a function of a
 * prefix of the input that, once it fails, fails for every longer input too (the method must be
 * tchars up to its SP, every line ends in CRLF, at most maxHeaderCount + 1 lines, the head ends
 * within maxHeaderBytes). Nothing past maxHeaderBytes is ever looked at. Checks that need the whole
 * head (fields, framing) run once it is complete, in http-head.ts, on the same bytes.
 */
import { CR, LF, SP, fail, isTchar, type HeadError, type HeadLimits } from './http-fields.js';

/** `push` result when the head is complete: `head` and `rest` are set on the reader. */
export const HEAD_DONE = 1;
/** `push` result when more bytes are needed. */
export const HEAD_NEED_MORE = 0;

export class HeadReader {
  readonly #request: boolean;
  readonly #limits: HeadLimits;
  /** Bytes of an incomplete head (only once a head spans chunks). */
  #acc: Buffer | null = null;
  #len = 0;
  /** Where the head starts (2 after one tolerated leading CRLF); -1 undecided. */
  #start = -1;
  /** Requests: 0 while the method is still arriving, 1 once its SP was seen. */
  #method = 0;
  #methodPos = 0;
  /** Where the search for the next LF resumes, and where the current line began. */
  #scan = 0;
  #lineStart = 0;
  #lines = 0;
  /** push's one-byte path applies (method read, bytes held) and may fill #acc up to #room. */
  #trickle = false;
  #room = 0;
  /** The complete head (after HEAD_DONE), and the bytes that followed it in the same chunks. */
  head: Buffer = EMPTY;
  rest: Buffer | null = null;
  /** Where the head's start line begins and the head ends in `head` (after HEAD_DONE). */
  readonly span = { start: 0, end: 0 };

  constructor(isRequest: boolean, limits: HeadLimits) {
    this.#request = isRequest;
    this.#limits = limits;
  }

  /** Bytes held of an incomplete head. */
  get buffered(): number {
    return this.#len;
  }

  /** Forget everything (the next push starts a new head). */
  reset(): void {
    this.#acc = null;
    this.#len = 0;
    this.#start = -1;
    this.#method = 0;
    this.#methodPos = 0;
    this.#scan = 0;
    this.#lineStart = 0;
    this.#lines = 0;
    this.#trickle = false;
    this.#room = 0;
    this.head = EMPTY;
    this.rest = null;
  }

  push(chunk: Buffer): typeof HEAD_DONE | typeof HEAD_NEED_MORE | HeadError {
    // One byte mid-head (a head sent a byte per segment): store it and wait, with no other work,
    // so the per-segment cost stays a few ns whatever the segmentation (bench/head-split.mjs).
    // Kept apart from #pushChunk so that this small function is inlined where it is called.
    if (chunk.length === 1 && this.#trickle) {
      const b = chunk[0]!;
      const len = this.#len;
      if (b !== LF && len < this.#room) {
        this.#acc![len] = b;
        this.#len = this.#scan = len + 1;
        return HEAD_NEED_MORE;
      }
    }
    return this.#pushChunk(chunk);
  }

  #pushChunk(chunk: Buffer): typeof HEAD_DONE | typeof HEAD_NEED_MORE | HeadError {
    const max = this.#limits.maxHeaderBytes;
    if (this.#len === 0) {
      // The common case: a whole head in one chunk, scanned in place without a copy.
      const r = this.#step(chunk, Math.min(chunk.length, max), chunk.length > max);
      if (r === HEAD_DONE) {
        const end = this.#scan;
        this.#done(end);
        this.head = chunk.subarray(0, end);
        this.rest = end < chunk.length ? chunk.subarray(end) : null;
        return r;
      }
      if (r !== HEAD_NEED_MORE) return r;
      this.#append(chunk, chunk.length);
      return r;
    }
    const take = Math.min(chunk.length, max - this.#len);
    this.#append(chunk, take);
    if (
      take === chunk.length &&
      take <= SMALL &&
      this.#len < max &&
      (this.#method === 1 || !this.#request) &&
      this.#start !== -1
    ) {
      // A few bytes mid-line (a head trickling in): nothing to decide unless they hold an LF.
      let lf = false;
      for (let i = 0; i < take; i++) if (chunk[i] === LF) lf = true;
      if (!lf) {
        this.#scan = this.#len;
        return HEAD_NEED_MORE;
      }
    }
    const acc = this.#acc!;
    const r = this.#step(acc, this.#len, take < chunk.length);
    if (r !== HEAD_DONE) return r;
    const end = this.#scan;
    this.#done(end);
    this.head = acc.subarray(0, end);
    const held = this.#len - end;
    this.rest =
      held === 0
        ? take < chunk.length
          ? chunk.subarray(take)
          : null
        : Buffer.concat([acc.subarray(end, this.#len), chunk.subarray(take)]);
    return r;
  }

  #done(end: number): void {
    this.span.start = this.#start;
    this.span.end = end;
  }

  #append(chunk: Buffer, n: number): void {
    const need = this.#len + n;
    let acc = this.#acc;
    if (acc === null || acc.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(this.#limits.maxHeaderBytes, Math.max(need, 2 * (acc?.length ?? 512))));
      if (acc !== null) acc.copy(grown, 0, 0, this.#len);
      this.#acc = acc = grown;
    }
    // A few bytes (a head trickling in) are cheaper to copy in JS than through a native call.
    if (n <= SMALL) for (let i = 0, o = this.#len; i < n; i++) acc[o + i] = chunk[i]!;
    else chunk.copy(acc, this.#len, 0, n);
    this.#len = need;
    // The one-byte path (push) may take over once the method is read: room up to the head limit.
    this.#room = Math.min(acc.length, this.#limits.maxHeaderBytes - 1);
    this.#trickle = this.#method === 1 || !this.#request;
  }

  /**
   * Scan `buf[0, len)` from where the last call stopped. `over`: more bytes than maxHeaderBytes
   * arrived. On HEAD_DONE `#scan` is the end of the head.
   */
  #step(buf: Buffer, len: number, over: boolean): typeof HEAD_DONE | typeof HEAD_NEED_MORE | HeadError {
    if (this.#start === -1) {
      if (len === 0)
        return over ? fail('too-large', `head exceeds ${this.#limits.maxHeaderBytes} bytes`) : HEAD_NEED_MORE;
      // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
      if (this.#request && buf[0] === CR) {
        if (len < 2 && !over) return HEAD_NEED_MORE;
        this.#start = buf[1] === LF ? 2 : 0;
      } else this.#start = 0;
      this.#scan = this.#lineStart = this.#methodPos = this.#start;
    }
    if (this.#request && this.#method === 0) {
      // The method: tchars up to the first SP (rejects TLS, binary and garbage at once).
      let i = this.#methodPos;
      for (; i < len; i++) {
        const c = buf[i]!;
        if (c === SP) {
          if (i === this.#start) return fail('bad-request', 'invalid method token');
          this.#method = 1;
          break;
        }
        if (!isTchar(c)) return fail('bad-request', 'invalid method token');
      }
      this.#methodPos = i;
    }
    const max = this.#limits.maxHeaderBytes;
    for (;;) {
      let lf: number;
      const from = this.#scan;
      if (len - from <= SMALL) {
        // As above: a short stretch is searched in JS.
        lf = -1;
        for (let i = from; i < len; i++) {
          if (buf[i] === LF) {
            lf = i;
            break;
          }
        }
      } else {
        lf = buf.indexOf(LF, from);
        if (lf >= len) lf = -1;
      }
      if (lf === -1) {
        this.#scan = len;
        break;
      }
      if (lf === 0 || buf[lf - 1] !== CR) return fail('bad-request', 'bare LF line ending');
      if (lf - 1 === this.#lineStart) {
        if (this.#lines === 0) return fail('bad-request', 'empty start line');
        this.#scan = lf + 1;
        return HEAD_DONE;
      }
      if (++this.#lines > this.#limits.maxHeaderCount + 1)
        return fail('too-many-headers', `more than ${this.#limits.maxHeaderCount} header fields`);
      this.#scan = this.#lineStart = lf + 1;
    }
    if (over || len >= max) return fail('too-large', `head exceeds ${max} bytes`);
    return HEAD_NEED_MORE;
  }
}

const EMPTY = Buffer.alloc(0);
/** Up to this many bytes, copying and searching in JS beats a native call. */
const SMALL = 32;
