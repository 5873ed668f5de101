/**
 * The state of one HTTP/1.1 client connection (http-session.ts drives it): where the request side
 * is, what the one wheel slot means, the current exchange, and the small pieces every part of the
 * session uses: lazy timers, request facts for routing, the request events.
 */
import { CloseReason, EndKind, Initiator, type CloseReason as Reason } from '../core/close-reasons.js';
import { CLOSE_REASON_TABLE } from '../core/close-reason-table.js';
import { channels } from '../core/channels.js';
import { SightlineError } from '../core/errors.js';
import type { ChunkedFramer, LengthFramer } from '../protocol/chunked.js';
import type { RequestHead } from '../protocol/http-head.js';
import { HeadReader } from '../protocol/http-head-reader.js';
import { normalizeHost } from '../routing/domain-matcher.js';
import type { TargetFacts } from '../routing/path-normalize.js';
import type { CompiledRoute, HttpFacts } from '../routing/route-table.js';
import { Deadline, type Connection } from '../net/connection.js';
import type { ResolvedTarget } from '../net/upstream.js';
import type { Upstream } from './upstream-lease.js';
import type { UpstreamPools } from './upstream-pool.js';
import type { ResponseOps } from './http-response.js';

/** Request side of the session. */
export const Req = { Idle: 0, Head: 1, Wait: 2, Body: 3, Sent: 4, Closing: 5 } as const;

export type ReqState = (typeof Req)[keyof typeof Req];

/** What the one wheel slot currently means. */
export const Timer = { None: 0, Idle: 1, Head: 2, Connect: 3, Queue: 4, Response: 5, Body: 6 } as const;

export type TimerKind = (typeof Timer)[keyof typeof Timer];

export type Framer = ChunkedFramer | LengthFramer;

export class HttpSession {
  readonly pools: UpstreamPools;
  /** The route the connection was given (it chose the certificate); requests re-route. */
  readonly entry: CompiledRoute;
  state: ReqState = Req.Idle;
  timer: TimerKind = Timer.None;
  /** When the current timer is due, and when the wheel entry fires (0: not on the wheel). */
  timerAt = 0;
  wheelAt = 0;
  /** Client bytes read but not consumed yet (pipelined requests, or body bytes not sent yet). */
  buf: Buffer | null = null;
  /** The request head being received (it holds a partial head across chunks). */
  readonly reader: HeadReader;
  /** The backend's response head being received. */
  readonly ureader: HeadReader;
  requests = 0;
  /** The client sent FIN: requests already read are answered, then the connection closes. */
  clientEnded = false;
  /** Close the client connection once the current exchange is over. */
  closeAfter = false;
  /** Why the client connection closes after this exchange (when closeAfter). */
  closeReason: Reason = CloseReason.ClientClosed;
  closeInitiator: Initiator = Initiator.Client;
  // ---- the current exchange ----
  head: RequestHead | null = null;
  route: CompiledRoute | null = null;
  target: ResolvedTarget | null = null;
  upHead = '';
  upgrade: string | null = null;
  reqBody: Framer | null = null;
  /** Body bytes that came with the head, already checked by the framer, sent right after it. */
  early: Buffer | null = null;
  up: Upstream | null = null;
  reused = false;
  retried = false;
  startedAt = 0;
  resBody: Framer | null = null;
  /** 0 until a response head went to the client. */
  status = 0;
  /** The response body runs until the backend closes. */
  closeDelimited = false;
  /** Why the exchange failed, in words (for the request event). */
  error: string | null = null;
  /** How the last exchange ended (its request event's reason; null before the first). */
  lastOutcome: Reason | null = null;

  constructor(pools: UpstreamPools, entry: CompiledRoute, limits: { maxHeaderBytes: number; maxHeaderCount: number }) {
    this.pools = pools;
    this.entry = entry;
    this.reader = new HeadReader(true, limits);
    this.ureader = new HeadReader(false, limits);
  }
}

/** The HTTP session of a connection the HTTP mode runs on (anything else is a bug: internal_error). */
export function session(c: Connection): HttpSession {
  const s = c.modeState;
  if (s instanceof HttpSession) return s;
  throw new Error(`connection ${c.id} has no HTTP session`);
}

/**
 * Timers are lazy (the exchange re-arms two or three times per request): `arm` records the
 * deadline, and the wheel entry moves only when it would fire too late. An entry that fires
 * early re-schedules itself for the recorded deadline; one that finds no timer does nothing.
 */
export function arm(c: Connection, s: HttpSession, kind: TimerKind): void {
  const o = c.ctx.options;
  const h = o.http;
  const ms =
    kind === Timer.Idle
      ? h.keepAliveTimeout
      : kind === Timer.Head
        ? h.requestHeadersTimeout
        : kind === Timer.Connect
          ? o.connectionTimeout
          : kind === Timer.Queue
            ? h.upstream.queueTimeout
            : kind === Timer.Body
              ? h.requestBodyTimeout
              : h.responseTimeout;
  s.timer = kind;
  s.timerAt = c.ctx.clock.now() + ms;
  if (s.wheelAt === 0 || s.wheelAt > s.timerAt) {
    c.armDeadline(Deadline.Mode, ms);
    s.wheelAt = s.timerAt;
  }
}

export function disarm(_c: Connection, s: HttpSession): void {
  s.timer = Timer.None;
}

/** Routing facts of a request: the target's authority wins over Host (RFC 9112 §3.2.2). */
export function requestFacts(head: RequestHead, t: TargetFacts): HttpFacts {
  let host = t.authority ?? head.host;
  if (host !== null) {
    const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
    host = normalizeHost(end > 0 ? host.slice(0, end) : host);
  }
  return { host, path: t.path, headers: head.headers };
}

/** Publish the request-start event; returns the traceparent a subscriber set (null: unchanged). */
export function announce(
  c: Connection,
  route: CompiledRoute,
  head: RequestHead,
  facts: HttpFacts,
  target: ResolvedTarget,
): string | null {
  let incoming: string | null = null;
  let state: string | null = null;
  for (const [n, v] of head.headers) {
    if (n.length === 11 && n.toLowerCase() === 'traceparent') incoming = v;
    else if (n.length === 10 && n.toLowerCase() === 'tracestate') state = v;
  }
  const ev = {
    conn: c,
    routeName: route.name,
    method: head.method,
    target: head.target,
    host: facts.host,
    upstream: `${target.host}:${target.port}`,
    traceparent: incoming,
    tracestate: state,
  };
  channels.httpRequestStart.publish(ev);
  return ev.traceparent !== incoming ? ev.traceparent : null;
}

export function clearExchange(s: HttpSession): void {
  s.head = null;
  s.route = null;
  s.target = null;
  s.upHead = '';
  s.upgrade = null;
  s.reqBody = null;
  s.early = null;
  s.ureader.reset();
  s.resBody = null;
  s.status = 0;
  s.closeDelimited = false;
  s.error = null;
}

export function closeAfterExchange(s: HttpSession, reason: Reason, who: Initiator): void {
  if (s.closeAfter) return;
  s.closeAfter = true;
  s.closeReason = reason;
  s.closeInitiator = who;
}

export function publishRequest(c: Connection, s: HttpSession, reason: Reason, upgradedNow = false): void {
  s.lastOutcome = reason;
  if (!channels.httpRequest.hasSubscribers) return;
  const status = s.status;
  channels.httpRequest.publish({
    conn: c,
    routeName: s.route?.name ?? null,
    method: s.head?.method ?? '',
    status,
    statusClass: status === 0 ? 'none' : `${Math.floor(status / 100)}xx`,
    reason,
    target: s.target === null ? null : `${s.target.host}:${s.target.port}`,
    durationMs: c.ctx.clock.now() - s.startedAt,
    reusedUpstream: s.reused,
    upgraded: upgradedNow,
    error: s.error,
  });
}

// ---- issue 14: the request body timeout and a rejected WebSocket upgrade ----------------------

/** The request body starts to flow to the backend: from now on a gap of requestBodyTimeout is a 408. */
export function enterBody(c: Connection, s: HttpSession): void {
  s.state = Req.Body;
  arm(c, s, Timer.Body);
}

/**
 * No byte of a request body still due for `http.requestBodyTimeout` (between reads, as nginx's
 * client_body_timeout): 408 and close. Once a response head went out nothing can be answered:
 * the connection closes, still named for the client's silence (fail() would abort as backend).
 */
export function bodyTimedOut(c: Connection, s: HttpSession, ops: ResponseOps): void {
  // Paused by us (the backend is slow to take the body): the client is not the one to blame.
  if (s.state === Req.Body && c.client.isPaused()) return arm(c, s, Timer.Body);
  const detail = `no request body byte for ${c.ctx.options.http.requestBodyTimeout} ms`;
  if (s.status !== 0)
    c.decide(
      CloseReason.HttpBodyTimeout,
      Initiator.Client,
      EndKind.Local,
      new SightlineError('SL_ERR_HTTP_REQUEST', detail),
    );
  ops.fail(c, s, 408, CloseReason.HttpBodyTimeout, Initiator.Client, true, detail);
}

/** Ends that say nothing of their own (a peer's end, the idle keep-alive cap): after a rejected upgrade, the rejection is why. */
function isQuietEnd(reason: Reason): boolean {
  const i = CLOSE_REASON_TABLE[reason];
  return i.cause === 'peer-end' || (i.normal && i.cause === 'cap');
}

/**
 * The HTTP mode's `refine`: a connection that ends quietly right after the backend refused its
 * WebSocket upgrade (no request since) ends as `ws_upgrade_rejected`, initiator backend: a
 * WebSocket client gives up after a non-101 answer, and "client closed" would hide why.
 */
export function refineHttpClose(
  c: Connection,
  reason: Reason,
  initiator: Initiator,
): { reason: Reason; initiator: Initiator } {
  const s = c.modeState;
  if (!(s instanceof HttpSession) || s.lastOutcome !== CloseReason.WsUpgradeRejected || !isQuietEnd(reason))
    return { reason, initiator };
  return s.state === Req.Idle || s.state === Req.Closing
    ? { reason: CloseReason.WsUpgradeRejected, initiator: Initiator.Backend }
    : { reason, initiator };
}
