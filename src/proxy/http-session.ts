/**
 * HTTP/1.1 on a client connection (DESIGN §1 L4): plain HTTP routes, and terminated routes once
 * TLS is off. One request at a time per client connection (pipelined requests wait, read but
 * unparsed, until the response before them is complete), each routed on its own by Host, path and
 * headers, sent on a pooled keep-alive upstream socket, its response relayed back by framing
 * without copying the body.
 *
 * Every exchange ends with one reason from the close-reason set (`http_completed`, or why it
 * failed), published on the `sightline:http:request` channel with the status class. Failures
 * before a response was sent get the proxy's own 4xx/5xx; after that the connection is aborted.
 *
 * Timers (one wheel slot per connection, `Deadline.Mode`): keep-alive idle between requests,
 * request head completion, upstream connect or queue wait, response head. None of them exists
 * once the exchange became a WebSocket (websocket.ts takes the connection over).
 *
 * This file drives the client side and the request; http-response.ts the backend's answer and
 * http-failure.ts failures and timeouts (both call back through OPS); http-state.ts holds the
 * state and timers they share.
 */
import { CloseReason, EndKind, Initiator, Phase, type CloseReason as Reason } from '../core/close-reasons.js';
import { channels, FaultSite } from '../core/channels.js';
import { ChunkedFramer, LengthFramer } from '../protocol/chunked.js';
import { parseRequestHead, type HeadError, type RequestHead } from '../protocol/http-head.js';
import { HEAD_DONE, HEAD_NEED_MORE } from '../protocol/http-head-reader.js';
import { forwardRequestHead } from '../protocol/http-rewrite.js';
import { isTerminating } from '../routing/route-table.js';
import { kConn, type Connection, type ConnSocket } from '../net/connection.js';
import { Listeners, type Mode, type ModeHooks, type Route } from '../net/mode.js';
import { Doubt, type Upstream, type UpstreamHandler } from './upstream-lease.js';
import type { UpstreamPools } from './upstream-pool.js';
import { responseData, upstreamClosed } from './http-response.js';
import { abandonUpstream, abort, fail, onTimer, type SessionOps } from './http-failure.js';
import { headErrorReason, isRefusal, routeRequest } from './http-request-route.js';
import {
  HttpSession,
  Req,
  Timer,
  type ReqState,
  announce,
  arm,
  clearExchange,
  closeAfterExchange,
  disarm,
  enterBody,
  publishRequest,
  refineHttpClose,
  session,
} from './http-state.js';

// ---- start ----------------------------------------------------------------------------------

/**
 * The HTTP mode of one proxy (its upstream pools are the proxy's): takes over a routed connection
 * whose route speaks HTTP (its client stream is plaintext: plain HTTP, or after tls-terminate).
 */
export function httpMode(pools: UpstreamPools): Mode {
  return { ...HTTP_HOOKS, refine: refineHttpClose, start: (c, route) => startHttp(c, route, pools) };
}

function startHttp(c: Connection, route: Route, pools: UpstreamPools): void {
  const h = c.ctx.options.http;
  const s = new HttpSession(pools, route, { maxHeaderBytes: h.maxHeaderSize, maxHeaderCount: h.maxHeaderCount });
  c.setModeState(s);
  c.enter(Phase.Http);
  const cl = c.client;
  CLIENT.attach(cl);
  arm(c, s, Timer.Idle);
  const pending = c.takePending();
  if (pending !== null) CLIENT.data!.call(cl, pending);
  if (s.state === Req.Idle || s.state === Req.Head) cl.resume();
}

// ---- client side ----------------------------------------------------------------------------

function onHttpClientData(this: ConnSocket, chunk: Buffer): void {
  const c = this[kConn]!;
  const s = session(c);
  if (s.state === Req.Body && s.buf === null) return void bodyData(c, s, chunk);
  s.buf = s.buf === null ? chunk : Buffer.concat([s.buf, chunk]);
  if (s.state === Req.Idle || s.state === Req.Head) readRequests(c, s);
  else if (s.state === Req.Closing) s.buf = null;
  else {
    // Pipelined bytes behind a request in flight: hold them (bounded) and stop reading.
    this.pause();
    if (s.buf.length > c.ctx.options.maxPendingDataSize) c.close(CloseReason.PendingDataLimit, Initiator.Client);
  }
}

function onHttpClientDrain(this: ConnSocket): void {
  const s = session(this[kConn]!);
  s.up?.socket.resume();
}

/** The session's listeners on the client socket ('end' and 'close' reach it as hooks). */
const CLIENT = new Listeners(FaultSite.Http, { data: onHttpClientData, drain: onHttpClientDrain });

function clientEnd(c: Connection): void {
  const s = session(c);
  if (s.state === Req.Idle && s.buf === null) {
    c.close(CloseReason.ClientClosed, Initiator.Client, EndKind.Fin);
    return;
  }
  // A request is in flight: answer it and every complete request read after it, then close (a
  // client may half-close after sending its pipelined requests).
  s.clientEnded = true;
  if (s.state === Req.Head)
    fail(OPS, c, s, 400, CloseReason.HttpBadRequest, Initiator.Client, true, 'incomplete request head before FIN');
  // Body or still waiting for an upstream socket with the body unfinished: it never will be.
  else if (s.state === Req.Body || (s.state === Req.Wait && s.reqBody !== null))
    fail(OPS, c, s, 400, CloseReason.HttpBadRequest, Initiator.Client, true, 'request body ended early');
}

function clientClosed(c: Connection): void {
  const s = session(c);
  if (s.up !== null || s.state === Req.Wait) {
    // The client left mid-exchange: the upstream socket has a response in flight; never reuse it.
    const gone: Reason = c.reason === CloseReason.ClientReset ? CloseReason.ClientReset : CloseReason.ClientClosed;
    publishRequest(c, s, gone);
    abandonUpstream(c, s);
  }
}

/**
 * Feed `s.buf` to the head reader and start every complete request in it, one at a time. The
 * reader keeps a partial head across chunks: each byte is scanned once, whatever the segmentation.
 */
function readRequests(c: Connection, s: HttpSession): void {
  while (s.buf !== null && (s.state === Req.Idle || s.state === Req.Head)) {
    const chunk = s.buf;
    s.buf = null;
    const reader = s.reader;
    if (s.state === Req.Idle) {
      s.state = Req.Head;
      reader.reset();
    }
    const r = reader.push(chunk);
    if (r === HEAD_NEED_MORE) {
      // The head timer runs from the first byte of a head (not re-armed by later bytes).
      if (s.timer !== Timer.Head) arm(c, s, Timer.Head);
      return;
    }
    if (r !== HEAD_DONE) return void headError(c, s, r);
    const h = c.ctx.options.http;
    const p = parseRequestHead(
      reader.head,
      { maxHeaderBytes: h.maxHeaderSize, maxHeaderCount: h.maxHeaderCount },
      reader.span,
    );
    s.buf = reader.rest;
    reader.reset();
    // 'need-more' cannot happen: the reader found the end of these bytes.
    if (p.status !== 'done')
      return void headError(
        c,
        s,
        p.status === 'error' ? p : { status: 'error', code: 'bad-request', detail: 'incomplete head', httpStatus: 400 },
      );
    beginRequest(c, s, p.head);
  }
}

function headError(c: Connection, s: HttpSession, e: HeadError): void {
  fail(OPS, c, s, e.httpStatus, headErrorReason(e), Initiator.Client, true, e.detail);
}

function beginRequest(c: Connection, s: HttpSession, head: RequestHead): void {
  const ctx = c.ctx;
  s.state = Req.Wait;
  s.requests++;
  s.startedAt = ctx.clock.now();
  s.head = head;
  s.status = 0;
  s.retried = false;
  s.reqBody = head.chunked
    ? new ChunkedFramer()
    : head.contentLength !== null && head.contentLength > 0
      ? new LengthFramer(head.contentLength)
      : null;
  if (!head.keepAlive || ctx.draining) closeAfterExchange(s, CloseReason.ClientClosed, Initiator.Client);
  // Body bytes that came with the head are checked before anything goes to a backend: a request
  // whose first chunk already breaks its framing gets its 400 with nothing forwarded.
  if (s.reqBody !== null && s.buf !== null) {
    const pending = s.buf;
    const r = s.reqBody.push(pending);
    if (r.error !== undefined)
      return void fail(OPS, c, s, 400, CloseReason.HttpBadRequest, Initiator.Client, true, `request body: ${r.error}`);
    s.early = r.consumed === pending.length ? pending : pending.subarray(0, r.consumed);
    s.buf = r.consumed < pending.length ? pending.subarray(r.consumed) : null;
    if (r.done) s.reqBody = null;
    else if (s.clientEnded)
      return void fail(OPS, c, s, 400, CloseReason.HttpBadRequest, Initiator.Client, true, 'request body ended early');
  }
  const routed = routeRequest(c, s.entry, head);
  if (isRefusal(routed)) {
    if (routed.route !== undefined) s.route = routed.route;
    return void fail(OPS, c, s, routed.status, routed.reason, routed.who, routed.close, routed.detail, routed.code);
  }
  const { route, target, t, facts } = routed;
  s.route = route;
  s.target = target;
  const ws = route.config.action.websocket;
  s.upgrade =
    head.upgrade !== null && head.upgrade.toLowerCase() === 'websocket' && ws?.enabled !== false ? head.upgrade : null;
  const traceparent = channels.httpRequestStart.hasSubscribers ? announce(c, route, head, facts, target) : null;
  s.upHead = forwardRequestHead(
    head,
    {
      clientIp: c.clientIP,
      proto: isTerminating(s.entry.tlsMode) ? 'https' : 'http',
      xForwarded: ctx.options.http.xForwarded,
      traceparent,
    },
    s.upgrade,
    t.target,
    // A request without Host (HTTP/1.0) goes on as HTTP/1.1, which needs one: the backend's.
    t.authority ?? (head.host === null ? `${target.host}:${target.port}` : null),
    t.authority ?? head.host,
  );
  acquire(c, s, false);
}

function acquire(c: Connection, s: HttpSession, fresh: boolean): void {
  s.state = Req.Wait;
  const got = s.pools.acquire(c, s.route!, s.target!, UPSTREAM, fresh);
  if (got !== 'queued' && got.connected) {
    s.reused = true;
    attach(c, s, got);
    return;
  }
  s.reused = false;
  // Connecting: s.up is set so that giving up destroys the half-open socket.
  if (got !== 'queued') s.up = got;
  c.client.pause();
  arm(c, s, got === 'queued' ? Timer.Queue : Timer.Connect);
}

/** The exchange has its upstream socket: send the head, then the body as it comes. */
function attach(c: Connection, s: HttpSession, up: Upstream): void {
  s.up = up;
  c.story.upstreamAttached();
  up.socket.write(s.upHead, 'latin1');
  // Kept for the exchange: a retry on a fresh socket sends head and early body again.
  if (s.early !== null && !up.socket.write(s.early)) c.client.pause();
  if (s.reqBody === null) {
    requestSent(c, s);
    return;
  }
  enterBody(c, s);
  const pending = s.buf;
  s.buf = null;
  if (pending !== null) bodyData(c, s, pending);
  if (s.state === Req.Body) c.client.resume();
}

function requestSent(c: Connection, s: HttpSession): void {
  s.state = Req.Sent;
  if (s.status === 0) arm(c, s, Timer.Response);
  // Anything after this request is pipelined: it waits for the response.
  if (s.buf !== null) c.client.pause();
}

function bodyData(c: Connection, s: HttpSession, chunk: Buffer): void {
  const r = s.reqBody!.push(chunk);
  if (r.error !== undefined) {
    return void fail(OPS, c, s, 400, CloseReason.HttpBadRequest, Initiator.Client, true, `request body: ${r.error}`);
  }
  const up = s.up!;
  c.story.c2b();
  if (r.consumed > 0 && !up.socket.write(r.consumed === chunk.length ? chunk : chunk.subarray(0, r.consumed)))
    c.client.pause();
  if (!r.done) return void arm(c, s, Timer.Body);
  s.reqBody = null;
  if (r.consumed < chunk.length) s.buf = chunk.subarray(r.consumed);
  if (s.state === Req.Body) requestSent(c, s);
}

// ---- upstream side --------------------------------------------------------------------------

const UPSTREAM: UpstreamHandler = {
  ready(c, up) {
    const s = session(c);
    disarm(c, s);
    attach(c, s, up);
  },
  data(c, up, chunk) {
    responseData(c, session(c), up, chunk, OPS);
  },
  drain(c) {
    c.client.resume();
  },
  closed(c, up, err) {
    upstreamClosed(c, session(c), up, err, OPS);
  },
};

/** The response is complete: log it, free or reuse the upstream socket, go on with the client. */
function exchangeDone(c: Connection, s: HttpSession, doubt: Doubt | null): void {
  publishRequest(c, s, s.upgrade === null ? CloseReason.HttpCompleted : CloseReason.WsUpgradeRejected);
  const up = s.up;
  s.up = null;
  if (s.state !== Req.Sent) closeAfterExchange(s, CloseReason.ClientClosed, Initiator.Client); // unread request body
  if (up !== null) s.pools.release(up, doubt ?? (s.state === Req.Sent ? null : Doubt.EarlyResponse));
  nextRequest(c, s);
}

function nextRequest(c: Connection, s: HttpSession): void {
  clearExchange(s);
  if (s.closeAfter) {
    endClient(c, s);
    return;
  }
  s.state = Req.Idle;
  arm(c, s, Timer.Idle);
  if (s.buf !== null) readRequests(c, s);
  const st = s.state as ReqState; // readRequests moved it on
  if (s.clientEnded && (st === Req.Idle || st === Req.Head)) {
    // The client sent FIN: nothing more will come.
    if (st === Req.Head)
      return void fail(
        OPS,
        c,
        s,
        400,
        CloseReason.HttpBadRequest,
        Initiator.Client,
        true,
        'incomplete request head before FIN',
      );
    closeAfterExchange(s, CloseReason.ClientClosed, Initiator.Client);
    return void endClient(c, s);
  }
  if (st === Req.Idle || st === Req.Head) c.client.resume();
}

function endClient(c: Connection, s: HttpSession): void {
  s.state = Req.Closing;
  s.buf = null;
  disarm(c, s);
  c.decide(s.closeReason, s.closeInitiator, EndKind.Local);
  c.client.end();
  // A client that never closes its side is cut after the keep-alive timeout.
  arm(c, s, Timer.Idle);
}

// ---- events and hooks -----------------------------------------------------------------------

/**
 * What a failure (http-failure.ts) and the response side (http-response.ts) continue with: built
 * once here, so that neither file imports this one (the session calls fail(), fail() continues the
 * session: a module cycle otherwise).
 */
const OPS: SessionOps = {
  fail: (c, s, status, reason, who, close, detail) => fail(OPS, c, s, status, reason, who, close, detail),
  abort,
  done: exchangeDone,
  retry: (c, s) => acquire(c, s, true),
  nextRequest,
  endClient,
};

const HTTP_HOOKS: ModeHooks = {
  name: 'http',
  site: FaultSite.Http,
  deadline: (c) => onTimer(OPS, c),
  clientEnd,
  clientClosed,
  /** The exchange became a WebSocket (websocket.ts takes over): the session's listeners leave. */
  leave(c) {
    CLIENT.detach(c.client);
  },
  drain(c) {
    const s = session(c);
    if (s.state === Req.Idle && s.buf === null) c.close(CloseReason.Shutdown, Initiator.Proxy);
    else closeAfterExchange(s, CloseReason.Shutdown, Initiator.Proxy);
  },
  describe(c) {
    return { http: { requests: session(c).requests } };
  },
};
