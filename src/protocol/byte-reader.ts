/**
 * Bounds-checked big-endian reader over a Buffer view. Every read that would run past the end of
 * the view throws DecodeError; parsers catch it at their boundary and turn it into a result, so
 * no public parser throws. Vectors are returned as `subarray` views, never copies.
 */

/** Raised by ByteReader on an overrun or by a parser on a malformed field; never escapes a parser. */
export class DecodeError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'DecodeError';
  }
}

export class ByteReader {
  readonly #buf: Buffer;
  readonly #what: string;
  #pos = 0;

  /** `what` names the structure for error details, e.g. `extensions`. */
  constructor(buf: Buffer, what: string) {
    this.#buf = buf;
    this.#what = what;
  }

  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  get atEnd(): boolean {
    return this.#pos >= this.#buf.length;
  }

  #need(n: number, field: string): void {
    if (n > this.#buf.length - this.#pos) {
      throw new DecodeError(`${field} runs past the end of ${this.#what}`);
    }
  }

  u8(field: string): number {
    this.#need(1, field);
    const v = this.#buf.readUInt8(this.#pos);
    this.#pos += 1;
    return v;
  }

  u16(field: string): number {
    this.#need(2, field);
    const v = this.#buf.readUInt16BE(this.#pos);
    this.#pos += 2;
    return v;
  }

  /** Next `n` bytes as a view. */
  take(n: number, field: string): Buffer {
    this.#need(n, field);
    const view = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return view;
  }

  skip(n: number, field: string): void {
    this.#need(n, field);
    this.#pos += n;
  }

  /** A vector with a 1- or 2-byte length prefix, as a view. */
  vector(prefixBytes: 1 | 2, field: string): Buffer {
    const len = prefixBytes === 1 ? this.u8(`${field} length`) : this.u16(`${field} length`);
    return this.take(len, field);
  }
}
