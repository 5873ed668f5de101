/**
 * The response side of an HTTP exchange: the backend's head (interim 1xx, 101, final), then the
 * body by its framing, relayed without copying; heads with no hop-by-hop field go out byte for
 * byte. What ends the exchange (done, failed, upgraded) is the session's: given as `ops`.
 */
import { CloseReason, Initiator, type CloseReason as Reason } from '../core/close-reasons.js';
import { ChunkedFramer, LengthFramer } from '../protocol/chunked.js';
import { parseResponseHead, type ResponseHead } from '../protocol/http-head.js';
import { HEAD_DONE, HEAD_NEED_MORE } from '../protocol/http-head-reader.js';
import { forwardResponseHead, responseHeadPassesAsIs } from '../protocol/http-rewrite.js';
import type { Connection, ConnSocket } from '../net/connection.js';
import { connectFailure } from '../net/upstream.js';
import { Req, closeAfterExchange, disarm, publishRequest, type Framer, type HttpSession } from './http-state.js';
import { Doubt, type Upstream } from './upstream-lease.js';
import { startWebSocket } from './websocket.js';

const EMPTY = Buffer.alloc(0);

/** What the session does when the response side ends or breaks the exchange. */
export interface ResponseOps {
  fail(
    c: Connection,
    s: HttpSession,
    status: number,
    reason: Reason,
    who: Initiator,
    close: boolean,
    detail?: string,
  ): void;
  abort(c: Connection, s: HttpSession, reason: Reason, detail?: string): void;
  /** `doubt`: why the upstream socket must not be reused (null: it may be). */
  done(c: Connection, s: HttpSession, doubt: Doubt | null): void;
  /** Send the request again on a fresh upstream socket. */
  retry(c: Connection, s: HttpSession): void;
}

/** Methods a request may be retried with on a fresh socket when a reused one was dead. */
const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export function responseData(c: Connection, s: HttpSession, up: Upstream, chunk: Buffer, ops: ResponseOps): void {
  c.story.b2c();
  const cl = c.client;
  if (s.resBody !== null) {
    const r = s.resBody.push(chunk);
    if (r.error !== undefined) return void ops.abort(c, s, CloseReason.HttpBadResponse, `response body: ${r.error}`);
    if (r.consumed > 0 && !cl.write(r.consumed === chunk.length ? chunk : chunk.subarray(0, r.consumed)))
      up.socket.pause();
    // Bytes after the end of the response: nothing asked for them; the socket cannot be trusted.
    if (r.done) ops.done(c, s, r.consumed === chunk.length ? null : Doubt.Unsolicited);
    return;
  }
  if (s.closeDelimited) {
    if (!cl.write(chunk)) up.socket.pause();
    return;
  }
  const reader = s.ureader;
  const h = c.ctx.options.http;
  let r = reader.push(chunk);
  for (;;) {
    if (r === HEAD_NEED_MORE) return;
    if (r !== HEAD_DONE) return void badResponse(c, s, up, ops, CloseReason.HttpBadResponse, r.detail);
    const headBuf = reader.head;
    const rest = reader.rest ?? EMPTY;
    // Lean parse (fields validated, not listed): most heads pass on byte for byte.
    const p = parseResponseHead(
      headBuf,
      { maxHeaderBytes: h.maxHeaderSize, maxHeaderCount: h.maxHeaderCount },
      s.head!.method,
      false,
      reader.span,
    );
    reader.reset();
    if (p.status !== 'done') {
      const nominated = p.status === 'error' && p.code === 'nominated';
      return void badResponse(
        c,
        s,
        up,
        ops,
        nominated ? CloseReason.HttpResponseNominatedField : CloseReason.HttpBadResponse,
        p.status === 'error' ? p.detail : 'incomplete head',
      );
    }
    const head = p.head;
    if (head.status === 101) {
      if (s.upgrade === null)
        return void badResponse(c, s, up, ops, CloseReason.HttpBadResponse, '101 without an upgrade request');
      return void upgraded(c, s, up, withFields(c, s, headBuf, head), rest);
    }
    if (head.status < 200) {
      // Interim (100 Continue, 103 Early Hints): pass on, keep reading for the final response.
      cl.write(forwardResponseHead(withFields(c, s, headBuf, head), { close: false, http10: false }, null), 'latin1');
      if (rest.length === 0) return;
      r = reader.push(rest);
      continue;
    }
    startResponse(c, s, up, head, headBuf, rest, ops);
    return;
  }
}

/** The backend's answer cannot be relayed: 502, and its socket is never used again. */
function badResponse(
  c: Connection,
  s: HttpSession,
  up: Upstream,
  ops: ResponseOps,
  reason: Reason,
  detail: string,
): void {
  up.doubt = Doubt.BadResponse;
  ops.fail(c, s, 502, reason, Initiator.Backend, false, detail);
}

function startResponse(
  c: Connection,
  s: HttpSession,
  up: Upstream,
  head: ResponseHead,
  headBuf: Buffer,
  rest: Buffer,
  ops: ResponseOps,
): void {
  const cl = c.client;
  disarm(c, s);
  if (!head.keepAlive && head.chunked === false && head.contentLength === null) {
    // Body delimited by the backend closing: the client connection must end with it.
    s.closeDelimited = true;
    closeAfterExchange(s, CloseReason.BackendClosed, Initiator.Backend);
  }
  const client = { close: s.closeAfter, http10: s.head!.version === '1.0' };
  let framer: Framer | null = null;
  let consumed = 0;
  let done: boolean;
  if (head.chunked) {
    framer = new ChunkedFramer();
    const r = framer.push(rest);
    if (r.error !== undefined)
      return void badResponse(c, s, up, ops, CloseReason.HttpBadResponse, `response body: ${r.error}`);
    consumed = r.consumed;
    done = r.done;
  } else if (head.contentLength !== null) {
    // Usually the whole (small) body came with the head: no framer needed.
    consumed = Math.min(head.contentLength, rest.length);
    done = consumed === head.contentLength;
    if (!done) framer = new LengthFramer(head.contentLength - consumed);
  } else {
    consumed = rest.length; // close-delimited
    done = false;
  }
  // From here the head goes out: a later failure aborts instead of answering 502.
  s.status = head.status;
  let ok: boolean;
  if (responseHeadPassesAsIs(head, client)) {
    if (consumed === 0) ok = cl.write(headBuf);
    else if (rest.buffer === headBuf.buffer && rest.byteOffset === headBuf.byteOffset + headBuf.length) {
      // The common case: head and the body bytes that came with it, in one write, no copy.
      ok = cl.write(Buffer.from(headBuf.buffer, headBuf.byteOffset, headBuf.length + consumed));
    } else {
      cl.cork();
      cl.write(headBuf);
      ok = cl.write(rest.subarray(0, consumed));
      process.nextTick(uncork, cl);
    }
  } else {
    cl.cork();
    cl.write(forwardResponseHead(withFields(c, s, headBuf, head), client, null), 'latin1');
    ok = consumed === 0 || cl.write(rest.subarray(0, consumed));
    process.nextTick(uncork, cl);
  }
  if (!ok) up.socket.pause();
  if (done) {
    ops.done(c, s, consumed !== rest.length ? Doubt.Unsolicited : head.keepAlive ? null : Doubt.NotKeepAlive);
    return;
  }
  s.resBody = framer;
}

/** The response head in `buf` parsed again with its fields listed (to rewrite it). */
function withFields(c: Connection, s: HttpSession, buf: Buffer, lean: ResponseHead): ResponseHead {
  const h = c.ctx.options.http;
  const r = parseResponseHead(
    buf,
    { maxHeaderBytes: h.maxHeaderSize, maxHeaderCount: h.maxHeaderCount },
    s.head!.method,
    true,
  );
  return r.status === 'done' ? r.head : lean; // same bytes, same verdict: always 'done'
}

function uncork(s: ConnSocket): void {
  s.uncork();
}

/** 101: the upstream socket leaves the pool and the connection becomes a WebSocket relay. */
function upgraded(c: Connection, s: HttpSession, up: Upstream, head: ResponseHead, rest: Buffer): void {
  disarm(c, s);
  s.status = 101;
  c.client.write(forwardResponseHead(head, { close: false, http10: false }, s.upgrade), 'latin1');
  publishRequest(c, s, CloseReason.HttpCompleted, true);
  const route = s.route!;
  const early = s.buf;
  s.buf = null;
  s.up = null;
  const socket = s.pools.detach(up);
  // The WebSocket takes the connection over (the session's listeners leave: its `leave` hook).
  startWebSocket(c, route, socket, rest.length > 0 ? rest : null, early);
}

/**
 * The upstream socket closed while this exchange held it: a body that ran until close is complete;
 * mid-response the exchange is aborted; before any response a dead reused socket is retried once
 * (safe methods), else the client gets 502 with why.
 */
export function upstreamClosed(
  c: Connection,
  s: HttpSession,
  up: Upstream,
  err: NodeJS.ErrnoException | null,
  ops: ResponseOps,
): void {
  if (s.up !== null && s.up !== up) return;
  if (s.closeDelimited) {
    // The backend's close ends a body that had no length: complete, then close the client
    // (done releases the closed socket, which counts it).
    s.up = up;
    ops.done(c, s, Doubt.CloseFramed);
    return;
  }
  s.up = null;
  if (s.status !== 0) {
    ops.abort(
      c,
      s,
      err?.code === 'ECONNRESET' ? CloseReason.BackendReset : CloseReason.BackendClosed,
      'backend closed mid-response',
    );
    return;
  }
  const head = s.head;
  // A reused socket the backend had already closed: retry once on a fresh one when safe.
  if (
    s.reused &&
    up.bytesThisExchange === 0 &&
    !s.retried &&
    head !== null &&
    RETRYABLE.has(head.method) &&
    s.reqBody === null &&
    s.state === Req.Sent
  ) {
    s.retried = true;
    ops.retry(c, s);
    return;
  }
  let reason: Reason;
  if (!up.connected) reason = err === null ? CloseReason.BackendConnectFailed : connectFailure(err);
  else if (err?.code === 'ECONNRESET') reason = CloseReason.BackendReset;
  else reason = CloseReason.HttpBadResponse;
  ops.fail(
    c,
    s,
    502,
    reason,
    reason === CloseReason.LocalResourceExhausted ? Initiator.Proxy : Initiator.Backend,
    false,
    err?.code ?? err?.message,
  );
}
