/**
 * The field section of HTTP/1.1 heads (RFC 9112 §5, RFC 9110 §5): finding where a head ends,
 * splitting and validating its fields, and the framing facts they carry (Content-Length,
 * Transfer-Encoding, Connection, Host, Upgrade, Expect). Shared by the request and response head
 * parsers in http-head.ts; strict wherever framing could be ambiguous (smuggling).
 */

export interface HeadLimits {
  maxHeaderBytes: number;
  maxHeaderCount: number;
}

export type HeadErrorCode =
  'too-large' | 'too-many-headers' | 'bad-request' | 'smuggling' | 'nominated' | 'unsupported-version';

export interface HeadError {
  status: 'error';
  code: HeadErrorCode;
  detail: string;
  httpStatus: 400 | 431 | 505;
}

export type HeadResult<T> = { status: 'need-more' } | { status: 'done'; head: T } | HeadError;

/** Lowercase names of hop-by-hop fields a proxy must not forward (RFC 9110 §7.6.1). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

const HTTP_STATUS: Readonly<Record<HeadErrorCode, 400 | 431 | 505>> = {
  'too-large': 431,
  'too-many-headers': 431,
  'bad-request': 400,
  smuggling: 400,
  nominated: 400,
  'unsupported-version': 505,
};

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HT = 0x09;

/** tchar (RFC 9110 §5.6.2) lookup. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TCHAR[c.charCodeAt(0)] = 1;

export function fail(code: HeadErrorCode, detail: string): HeadError {
  return { status: 'error', code, detail, httpStatus: HTTP_STATUS[code] };
}

export function isError(v: unknown): v is HeadError {
  return typeof v === 'object' && v !== null && (v as { status?: unknown }).status === 'error';
}

export function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}

function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === SP || s.charCodeAt(a) === HT)) a++;
  while (b > a && (s.charCodeAt(b - 1) === SP || s.charCodeAt(b - 1) === HT)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Comma-separated list elements, OWS-trimmed, empty elements dropped (RFC 9110 §5.6.1). */
function listElements(value: string): string[] {
  if (!value.includes(',')) {
    const t = trimOws(value);
    return t === '' ? [] : [t];
  }
  const out: string[] = [];
  for (const part of value.split(',')) {
    const t = trimOws(part);
    if (t !== '') out.push(t);
  }
  return out;
}

export interface HeadSpan {
  start: number;
  end: number;
}

/**
 * Finds the head: [start, end) where end is just past CRLFCRLF. Rejects bare LF, too many lines
 * and oversize heads as early as possible.
 */
export function findHead(buf: Buffer, limits: HeadLimits, isRequest: boolean): HeadSpan | HeadError | null {
  const max = limits.maxHeaderBytes;
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
  const start = isRequest && buf.length >= 2 && buf[0] === CR && buf[1] === LF ? 2 : 0;
  let pos = start;
  let lines = 0;
  for (;;) {
    const lf = buf.indexOf(LF, pos);
    if (lf === -1 || lf >= max) break;
    if (lf === 0 || buf[lf - 1] !== CR) return fail('bad-request', 'bare LF line ending');
    if (lf - 1 === pos) {
      if (lines === 0) return fail('bad-request', 'empty start line');
      return { start, end: lf + 1 };
    }
    if (++lines > limits.maxHeaderCount + 1)
      return fail('too-many-headers', `more than ${limits.maxHeaderCount} header fields`);
    pos = lf + 1;
  }
  if (buf.length > max) return fail('too-large', `head exceeds ${max} bytes`);
  if (isRequest && lines === 0 && !methodPrefixOk(buf, start)) {
    if (!(buf.length === 1 && buf[0] === CR)) return fail('bad-request', 'invalid method token');
  }
  return null;
}

/** Incomplete request line: the bytes before the first SP must be tchars (rejects TLS, binary). */
function methodPrefixOk(buf: Buffer, start: number): boolean {
  for (let i = start; i < buf.length; i++) {
    const c = buf[i]!;
    if (c === SP) return i > start;
    if (c === CR) return false;
    if (c >= 128 || TCHAR[c] !== 1) return false;
  }
  return true;
}

interface Fields {
  headers: Array<[string, string]>;
  host: string | null;
  hostCount: number;
  contentLength: number | null;
  /** Content-Length came more than once (repeated field or list): forward it once (RFC 9110 §8.6). */
  contentLengthRepeated: boolean;
  transferEncoding: string[] | null;
  /** Connection header tokens, lowercased; the shared empty list when there is none. */
  connection: string[];
  upgrade: string | null;
  expectContinue: boolean;
  extraHopByHop: boolean;
}

const NO_TOKENS: string[] = [];
Object.freeze(NO_TOKENS);

/** Lengths of the field names applyField acts on, or that may be hop-by-hop: others are never lowercased. */
const INTERESTING_LENGTH = new Uint8Array(32);
for (const n of ['content-length', 'transfer-encoding', 'host', 'connection', 'upgrade', 'expect', ...HOP_BY_HOP])
  INTERESTING_LENGTH[n.length] = 1;

/**
 * Header fields of the head text [pos, stop) (stop: the start of the final empty line); the
 * count limit and CRLF line endings were enforced by findHead. Names and values are slices of
 * the one decoded head string.
 */
export function parseFields(text: string, pos: number, stop: number, collect = true): Fields | HeadError {
  const f: Fields = {
    headers: [],
    host: null,
    hostCount: 0,
    contentLength: null,
    contentLengthRepeated: false,
    transferEncoding: null,
    connection: NO_TOKENS,
    upgrade: null,
    expectContinue: false,
    extraHopByHop: false,
  };
  while (pos < stop) {
    const eol = text.indexOf('\n', pos) - 1; // the CR
    const c0 = text.charCodeAt(pos);
    if (c0 === SP || c0 === HT) return fail('bad-request', 'obsolete line folding');
    const colon = text.indexOf(':', pos);
    if (colon <= pos || colon > eol) return fail('bad-request', 'header line without a field name and colon');
    for (let i = pos; i < colon; i++) {
      const c = text.charCodeAt(i);
      if (c >= 128 || TCHAR[c] !== 1) {
        const last = text.charCodeAt(colon - 1);
        return fail(
          'bad-request',
          last === SP || last === HT ? 'whitespace between field name and colon' : 'invalid field name',
        );
      }
    }
    let a = colon + 1;
    let b = eol;
    while (a < b && (text.charCodeAt(a) === SP || text.charCodeAt(a) === HT)) a++;
    while (b > a && (text.charCodeAt(b - 1) === SP || text.charCodeAt(b - 1) === HT)) b--;
    for (let j = a; j < b; j++) {
      const c = text.charCodeAt(j);
      if ((c < SP && c !== HT) || c === 0x7f) return fail('bad-request', 'control character in field value');
    }
    const n = colon - pos;
    const interesting = n < 32 && INTERESTING_LENGTH[n] === 1;
    if (!collect && !interesting) {
      pos = eol + 2;
      continue;
    }
    const name = text.slice(pos, colon);
    const value = text.slice(a, b);
    if (collect) f.headers.push([name, value]);
    if (interesting) {
      const lower = name.toLowerCase();
      if (lower !== 'connection' && lower !== 'transfer-encoding' && HOP_BY_HOP.has(lower)) f.extraHopByHop = true;
      const err = applyField(f, lower, value);
      if (err !== null) return err;
    }
    pos = eol + 2;
  }
  for (const t of f.connection) if (t !== 'keep-alive') f.extraHopByHop = true;
  if (f.connection !== NO_TOKENS) {
    const named = nominatedFraming(f.connection);
    if (named !== null)
      return fail('nominated', `Connection names ${named}, a field the message is framed or routed by`);
  }
  return f;
}

/**
 * Fields a proxy frames or routes every message by. Connection may not name them: a hop-by-hop
 * field is dropped before forwarding while its effect (the framing, the routing) would stay.
 */
const FRAMING_FIELDS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'host']);

/** The first Connection token that names a framing or routing field, or null. */
export function nominatedFraming(tokens: readonly string[], extra?: ReadonlySet<string>): string | null {
  for (const t of tokens) if (FRAMING_FIELDS.has(t) || extra?.has(t) === true) return t;
  return null;
}

/** The head decoded once (latin1), its start line, and where the header fields begin. */
export function startLine(buf: Buffer, span: HeadSpan): { text: string; line: string; fields: number; stop: number } {
  const text = buf.toString('latin1', span.start, span.end);
  const lf = text.indexOf('\n');
  return { text, line: text.slice(0, lf - 1), fields: lf + 1, stop: text.length - 2 };
}

function applyField(f: Fields, lower: string, value: string): HeadError | null {
  switch (lower) {
    case 'content-length': {
      if (f.contentLength !== null || value.includes(',')) f.contentLengthRepeated = true;
      const n = contentLength(f.contentLength, value);
      if (isError(n)) return n;
      f.contentLength = n;
      return null;
    }
    case 'transfer-encoding':
      (f.transferEncoding ??= []).push(...listElements(value.toLowerCase()));
      return null;
    case 'host':
      f.hostCount++;
      f.host = value.toLowerCase();
      return null;
    case 'connection':
      f.connection =
        f.connection === NO_TOKENS
          ? listElements(value.toLowerCase())
          : f.connection.concat(listElements(value.toLowerCase()));
      return null;
    case 'upgrade':
      f.upgrade = value;
      return null;
    case 'expect':
      if (value.toLowerCase() === '100-continue') f.expectContinue = true;
      return null;
    default:
      return null;
  }
}

function contentLength(prev: number | null, value: string): number | HeadError {
  let result = prev;
  const parts = value.includes(',') ? value.split(',') : [value];
  for (const raw of parts) {
    const part = trimOws(raw);
    if (part === '') return fail('bad-request', 'empty Content-Length');
    let n = 0;
    for (let i = 0; i < part.length; i++) {
      const d = part.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) return fail('bad-request', 'non-digit Content-Length');
      n = n * 10 + d;
      if (n > Number.MAX_SAFE_INTEGER) return fail('bad-request', 'Content-Length too large');
    }
    if (result !== null && result !== n) return fail('smuggling', 'conflicting Content-Length values');
    result = n;
  }
  return result ?? fail('bad-request', 'empty Content-Length');
}

type TeVerdict = 'chunked' | 'not-chunked-final' | HeadError;

export function transferEncoding(codings: string[]): TeVerdict {
  if (codings.length === 0) return fail('bad-request', 'empty Transfer-Encoding');
  let chunkedCount = 0;
  for (const c of codings) {
    const semi = c.indexOf(';');
    const name = semi === -1 ? c : trimOws(c.slice(0, semi));
    if (!isToken(name)) return fail('bad-request', 'invalid transfer-coding');
    if (name === 'chunked') {
      if (semi !== -1) return fail('smuggling', 'chunked transfer-coding with parameters');
      chunkedCount++;
    }
  }
  if (chunkedCount > 1) return fail('smuggling', 'chunked applied more than once');
  return codings[codings.length - 1] === 'chunked' ? 'chunked' : 'not-chunked-final';
}
