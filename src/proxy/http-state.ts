/**
 * The state of one HTTP/1.1 client connection (http-session.ts drives it): where the request side
 * is, what the one wheel slot means, the current exchange, and the small pieces every part of the
 * session uses: lazy timers, request facts for routing, the request events.
 */
import { CloseReason, Initiator, type CloseReason as Reason } from '../core/close-reasons.js';
import { channels } from '../core/channels.js';
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

/** Request side of the session. */
export const Req = { Idle: 0, Head: 1, Wait: 2, Body: 3, Sent: 4, Closing: 5 } as const;

export type ReqState = (typeof Req)[keyof typeof Req];

/** What the one wheel slot currently means. */
export const Timer = { None: 0, Idle: 1, Head: 2, Connect: 3, Queue: 4, Response: 5 } as const;

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
    kind === Timer.Idle ? h.keepAliveTimeout
    : kind === Timer.Head ? h.requestHeadersTimeout
    : kind === Timer.Connect ? o.connectionTimeout
    : kind === Timer.Queue ? h.upstream.queueTimeout
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
export function announce(c: Connection, route: CompiledRoute, head: RequestHead, facts: HttpFacts, target: ResolvedTarget): string | null {
  let incoming: string | null = null;
  let state: string | null = null;
  for (const [n, v] of head.headers) {
    if (n.length === 11 && n.toLowerCase() === 'traceparent') incoming = v;
    else if (n.length === 10 && n.toLowerCase() === 'tracestate') state = v;
  }
  const ev = { conn: c, routeName: route.name, method: head.method, target: head.target, host: facts.host, upstream: `${target.host}:${target.port}`, traceparent: incoming, tracestate: state };
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
