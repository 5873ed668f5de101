/**
 * HTTP/1.1 message heads (RFC 9112), parsed strictly for a proxy that frames bodies itself.
 * Stateless: the proxy finds the end of a head as bytes arrive with a HeadReader
 * (http-head-reader.ts) and parses the complete head here once; called alone with a partial head
 * they answer 'need-more'. Only the head is decoded (latin1); the body is never touched. Anything
 * ambiguous about message framing is rejected (smuggling), and so is a Connection header naming
 * a framing or routing field.
 */
import {
  findHead,
  fail,
  isError,
  isToken,
  parseFields,
  startLine,
  transferEncoding,
  HOP_BY_HOP,
  nominatedFraming,
  HT,
  SP,
  type HeadError,
  type HeadLimits,
  type HeadResult,
  type HeadSpan,
} from './http-fields.js';

export { HOP_BY_HOP, nominatedFraming };
export type { HeadError, HeadErrorCode, HeadLimits, HeadResult, HeadSpan } from './http-fields.js';

export interface RequestHead {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  /** Names as received (original case), in order. */
  headers: Array<[name: string, value: string]>;
  /** Bytes of the head including the final CRLFCRLF (and one tolerated leading CRLF). */
  headerBytes: number;
  /** Host header value, lowercased, port kept. */
  host: string | null;
  /** Body length; 0 when the request has neither Content-Length nor Transfer-Encoding. */
  contentLength: number | null;
  /** Identical Content-Length values came more than once: forward one field. */
  contentLengthRepeated: boolean;
  chunked: boolean;
  keepAlive: boolean;
  /** Upgrade header value when Connection lists "upgrade" (HTTP/1.1 only). */
  upgrade: string | null;
  expectContinue: boolean;
  /** Connection header tokens, lowercased (fields named there are hop-by-hop too). */
  connectionTokens: readonly string[];
  /**
   * A hop-by-hop field other than Connection and Transfer-Encoding is present, or Connection
   * says more than `keep-alive`: the head cannot be passed on byte for byte.
   */
  extraHopByHop: boolean;
}

export interface ResponseHead {
  version: '1.0' | '1.1';
  status: number;
  reason: string;
  headers: Array<[string, string]>;
  headerBytes: number;
  /** null with chunked false: the body runs until the connection closes. */
  contentLength: number | null;
  /** As RequestHead.contentLengthRepeated (the head is rewritten to carry one field). */
  contentLengthRepeated: boolean;
  chunked: boolean;
  keepAlive: boolean;
  /** Connection header tokens, lowercased (fields named there are hop-by-hop too). */
  connectionTokens: readonly string[];
  /** As RequestHead.extraHopByHop. */
  extraHopByHop: boolean;
}

const NEED_MORE: { status: 'need-more' } = Object.freeze({ status: 'need-more' });
const VERSION_SHAPE = /^HTTP\/[0-9]\.[0-9]$/;
const ABSOLUTE_FORM = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]/;
const AUTHORITY_FORM = /^(?:\[[0-9a-fA-F:.]+\]|[^\s/?#@[\]:]+):[0-9]{1,5}$/;
const HOST_VALUE = /^(?:\[[0-9a-f:.]+\]|[a-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;

function parseVersion(v: string): '1.0' | '1.1' | HeadError {
  if (v === 'HTTP/1.1') return '1.1';
  if (v === 'HTTP/1.0') return '1.0';
  if (VERSION_SHAPE.test(v)) return fail('unsupported-version', `unsupported version ${v}`);
  return fail('bad-request', 'malformed HTTP version');
}

function keepAliveFor(version: '1.0' | '1.1', connection: readonly string[]): boolean {
  if (connection.includes('close')) return false;
  return version === '1.1' || connection.includes('keep-alive');
}

function checkTarget(method: string, target: string): string | null {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= SP || c >= 0x7f) return 'invalid character in request-target';
  }
  if (method === 'CONNECT') return AUTHORITY_FORM.test(target) ? null : 'CONNECT target must be host:port';
  if (target === '*') return method === 'OPTIONS' ? null : 'asterisk-form only allowed with OPTIONS';
  if (target.charCodeAt(0) === 0x2f || ABSOLUTE_FORM.test(target)) return null;
  return 'invalid request-target form';
}

/**
 * `found`: where a HeadReader found the head in `buf` (its lines already checked), so the bytes
 * are not scanned for line ends a second time.
 */
export function parseRequestHead(buf: Buffer, limits: HeadLimits, found?: HeadSpan): HeadResult<RequestHead> {
  const span = found ?? findHead(buf, limits, true);
  if (span === null) return NEED_MORE;
  if (isError(span)) return span;
  const first = startLine(buf, span);
  const parts = first.line.split(' ');
  if (parts.length !== 3) return fail('bad-request', 'request line must be method SP target SP version');
  const [method = '', target = '', versionText = ''] = parts;
  if (!isToken(method)) return fail('bad-request', 'invalid method token');
  if (target === '') return fail('bad-request', 'empty request-target');
  const version = parseVersion(versionText);
  if (isError(version)) return version;
  const targetError = checkTarget(method, target);
  if (targetError !== null) return fail('bad-request', targetError);

  const f = parseFields(first.text, first.fields, first.stop);
  if (isError(f)) return f;
  if (f.hostCount > 1) return fail('bad-request', 'more than one Host header');
  if (version === '1.1' && f.hostCount === 0) return fail('bad-request', 'HTTP/1.1 request without Host');
  if (f.host !== null && !HOST_VALUE.test(f.host)) return fail('bad-request', 'invalid Host value');

  let chunked = false;
  if (f.transferEncoding !== null) {
    if (f.contentLength !== null) return fail('smuggling', 'both Content-Length and Transfer-Encoding');
    if (version === '1.0') return fail('smuggling', 'Transfer-Encoding in an HTTP/1.0 request');
    const te = transferEncoding(f.transferEncoding);
    if (isError(te)) return te;
    if (te !== 'chunked') return fail('smuggling', 'Transfer-Encoding must end with chunked');
    chunked = true;
  }
  const is11 = version === '1.1';
  const head: RequestHead = {
    method,
    target,
    version,
    headers: f.headers,
    headerBytes: span.end,
    host: f.host,
    contentLength: chunked ? null : (f.contentLength ?? 0),
    contentLengthRepeated: f.contentLengthRepeated,
    chunked,
    keepAlive: keepAliveFor(version, f.connection),
    upgrade: is11 && f.connection.includes('upgrade') ? f.upgrade : null,
    expectContinue: is11 && f.expectContinue,
    connectionTokens: f.connection,
    extraHopByHop: f.extraHopByHop,
  };
  return { status: 'done', head };
}

/**
 * `requestMethod` is the method of the request this answers. HEAD requests, 1xx, 204 and 304
 * responses, and 2xx answers to CONNECT (the connection becomes a tunnel) have no body.
 * `collect: false` validates every field but lists none in `headers` (a proxy passing the
 * head on byte for byte needs only the framing facts; parse again with fields to rewrite it).
 */
export function parseResponseHead(
  buf: Buffer,
  limits: HeadLimits,
  requestMethod: string,
  collect = true,
  found?: HeadSpan,
): HeadResult<ResponseHead> {
  const span = found ?? findHead(buf, limits, false);
  if (span === null) return NEED_MORE;
  if (isError(span)) return span;
  const first = startLine(buf, span);
  const line = first.line;
  const sp = line.indexOf(' ');
  if (sp === -1) return fail('bad-request', 'malformed status line');
  const version = parseVersion(line.slice(0, sp));
  if (isError(version)) return version;
  const codeText = line.slice(sp + 1, sp + 4);
  if (!/^[1-9][0-9]{2}$/.test(codeText)) return fail('bad-request', 'malformed status code');
  const rest = line.slice(sp + 4);
  if (rest !== '' && rest.charCodeAt(0) !== SP) return fail('bad-request', 'malformed status line');
  const reason = rest.slice(1);
  for (let i = 0; i < reason.length; i++) {
    const c = reason.charCodeAt(i);
    if ((c < SP && c !== HT) || c === 0x7f) return fail('bad-request', 'control character in reason phrase');
  }
  const status = Number(codeText);

  const f = parseFields(first.text, first.fields, first.stop, collect);
  if (isError(f)) return f;
  if (f.transferEncoding !== null && f.contentLength !== null) {
    return fail('smuggling', 'both Content-Length and Transfer-Encoding');
  }
  let keepAlive = keepAliveFor(version, f.connection);
  const noBody =
    requestMethod === 'HEAD' ||
    status < 200 ||
    status === 204 ||
    status === 304 ||
    (requestMethod === 'CONNECT' && status < 300);
  let contentLength: number | null = f.contentLength;
  let chunked = false;
  if (f.transferEncoding !== null) {
    const te = transferEncoding(f.transferEncoding);
    if (isError(te)) return te;
    // RFC 9112 §6.3: a response whose final coding is not chunked (or HTTP/1.0 with
    // Transfer-Encoding) is delimited by closing the connection.
    chunked = te === 'chunked' && version === '1.1';
    contentLength = null;
  }
  if (noBody) {
    contentLength = 0;
    chunked = false;
  } else if (!chunked && contentLength === null) {
    keepAlive = false;
  }
  return {
    status: 'done',
    head: {
      version,
      status,
      reason,
      headers: f.headers,
      headerBytes: span.end,
      contentLength,
      contentLengthRepeated: f.contentLengthRepeated,
      chunked,
      keepAlive,
      connectionTokens: f.connection,
      extraHopByHop: f.extraHopByHop || f.contentLengthRepeated,
    },
  };
}

/**
 * Is `name` (any case) hop-by-hop for a message whose Connection header listed `tokens`?
 * Names are lowercased only when their length can match, so most fields cost a length check.
 */
export function isHopByHop(name: string, tokens: readonly string[]): boolean {
  const n = name.length;
  if (n < 32 && HOP_LENGTH[n] === 1 && HOP_BY_HOP.has(name.toLowerCase())) return true;
  if (tokens.length === 0) return false;
  for (const t of tokens) if (t.length === n && t === name.toLowerCase()) return true;
  return false;
}

const HOP_LENGTH = new Uint8Array(32);
for (const n of HOP_BY_HOP) HOP_LENGTH[n.length] = 1;
