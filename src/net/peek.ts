/**
 * From accept to a running mode: read what routing needs before a backend exists (an optional
 * PROXY protocol header, only from trusted `proxyIPs`, then the TLS ClientHello) under one
 * `initialDataTimeout` deadline and a cap on the bytes held, route, and dispatch: count the
 * connection under its route, publish the route event, run the route's mode (resolved when the
 * table was compiled). Every outcome is a running mode or exactly one close reason.
 */
import { channels, FaultSite } from '../core/channels.js';
import { CloseReason, EndKind, Initiator, Phase } from '../core/close-reasons.js';
import { SightlineError } from '../core/errors.js';
import { ClientHelloParser } from '../protocol/client-hello.js';
import { parseProxyHeader } from '../protocol/proxy-protocol.js';
import { normalizeIp } from '../routing/ip-matcher.js';
import { NEED_HELLO } from '../routing/route-table.js';
import { Deadline, F, kConn, type ConnSocket } from './connection-bits.js';
import type { Connection } from './connection.js';
import { guarded, runMode, type Route } from './mode.js';

/** What the peek keeps per connection (Connection.peek) until it routes. */
export interface PeekState {
  /** Bytes of a PROXY header still being read; null once past it. */
  proxyBuf: Buffer | null;
  hello: ClientHelloParser | null;
  held: number;
}

const EMPTY = Buffer.alloc(0);

/** Route at accept when no byte is needed, else start peeking (`proxyHeader`: read one first). */
export function routeOrPeek(c: Connection, proxyHeader: boolean): void {
  const ctx = c.ctx;
  if (proxyHeader) {
    startPeek(c, true);
    return;
  }
  const r = ctx.table.matchAtAccept(c.listenPort, c.clientIP);
  if (r === NEED_HELLO) startPeek(c, false);
  else routeOrReject(c, r, CloseReason.NoRoute);
}

function startPeek(c: Connection, proxyHeader: boolean): void {
  const state: PeekState = {
    proxyBuf: proxyHeader ? EMPTY : null,
    hello: proxyHeader ? null : new ClientHelloParser(c.ctx.options.maxClientHelloSize),
    held: 0,
  };
  c.peek = state;
  c.enter(proxyHeader ? Phase.ProxyHeader : Phase.Peek);
  c.client.on('data', onPeekData);
  c.client.resume();
  c.armDeadline(Deadline.InitialData, c.ctx.options.initialDataTimeout);
}

const onPeekData = guarded<Buffer>(FaultSite.Peek, function onPeekData(this: ConnSocket, chunk: Buffer): void {
  const c = this[kConn]!;
  const st = c.peek;
  if (st !== null) peekData(c, st, chunk);
});

function peekData(c: Connection, st: PeekState, chunk: Buffer): void {
  st.held += chunk.length;
  if (st.held > c.ctx.options.maxPendingDataSize) {
    c.close(CloseReason.PendingDataLimit, Initiator.Client);
    return;
  }
  if (st.proxyBuf !== null) {
    const buf = st.proxyBuf.length === 0 ? chunk : Buffer.concat([st.proxyBuf, chunk]);
    const r = parseProxyHeader(buf);
    if (r.status === 'need-more') {
      st.proxyBuf = buf;
      return;
    }
    if (r.status !== 'done') {
      const detail = r.status === 'absent' ? 'trusted peer sent no PROXY header' : r.detail;
      c.close(
        CloseReason.ProxyProtocolInvalid,
        Initiator.Client,
        EndKind.Local,
        new SightlineError('SL_ERR_PROXY_HEADER', detail),
      );
      return;
    }
    st.proxyBuf = null;
    const h = r.header;
    c.previousHopId = h.uniqueId;
    if (h.command === 'PROXY' && h.sourceAddress !== null)
      c.setClientAddress(normalizeIp(h.sourceAddress), h.sourcePort ?? 0);
    // The client is known: its limits and rate now (a LOCAL header: the peer itself).
    const refused = c.ctx.admission.admitClient(c.clientIP, c.ctx.clock.now());
    if (refused !== null) {
      c.close(refused, Initiator.Proxy);
      return;
    }
    c.limitKey = c.clientIP;
    const rest = buf.subarray(h.length);
    const route = c.ctx.table.matchAtAccept(c.listenPort, c.clientIP);
    if (route !== NEED_HELLO) {
      finishPeek(c, rest.length > 0 ? rest : null);
      routeOrReject(c, route, CloseReason.NoRoute);
      return;
    }
    c.enter(Phase.Peek);
    st.hello = new ClientHelloParser(c.ctx.options.maxClientHelloSize);
    if (rest.length === 0) return;
    chunk = rest;
  }
  const parser = st.hello!;
  const r = parser.push(chunk);
  switch (r.status) {
    case 'need-more':
      return;
    case 'done': {
      const h = r.hello;
      c.story.markHello();
      c.isTLS = true;
      c.serverName = h.serverName;
      finishPeek(c, parser.buffered);
      const route = c.ctx.table.match(c.listenPort, c.clientIP, h);
      routeOrReject(c, route, CloseReason.NoRoute, h.alpn, h.versions);
      return;
    }
    case 'not-tls': {
      finishPeek(c, parser.buffered);
      routeOrReject(c, c.ctx.table.match(c.listenPort, c.clientIP, null), CloseReason.NotTls);
      return;
    }
    case 'invalid':
      c.close(
        CloseReason.ClientHelloInvalid,
        Initiator.Client,
        EndKind.Local,
        new SightlineError('SL_ERR_CLIENT_HELLO', r.detail),
      );
      return;
    case 'too-large':
      c.close(CloseReason.ClientHelloTooLarge, Initiator.Client);
      return;
  }
}

function finishPeek(c: Connection, pending: Buffer | null): void {
  c.client.removeListener('data', onPeekData);
  c.client.pause();
  c.disarmDeadline();
  c.peek = null;
  c.holdPending(pending);
}

/** Use the route, else `defaults.target`, else close with `reason`. */
function routeOrReject(
  c: Connection,
  route: Route | null,
  reason: CloseReason,
  alpn?: readonly string[],
  versions?: readonly string[],
): void {
  const r = route ?? c.ctx.defaultRoute;
  if (r === null) c.close(reason, Initiator.Proxy);
  else dispatch(c, r, alpn, versions);
}

/** The route is chosen: count it, publish it, run its mode. */
function dispatch(c: Connection, route: Route, alpn: readonly string[] = [], versions: readonly string[] = []): void {
  c.setRoute(route);
  c.enter(Phase.Routing);
  c.story.markRouted();
  if (route.tlsMode === 'passthrough') c.isTLS = true;
  c.ctx.registry.assignRoute(c);
  const refused = c.ctx.admission.atRoute(c, route, c.ctx.registry.countOnRoute(route.name), route.protocol !== 'http');
  if (refused !== null) {
    c.close(refused, Initiator.Proxy);
    return;
  }
  c.flags |= F.RouteCounted;
  if (channels.route.hasSubscribers) {
    channels.route.publish({ conn: c, routeName: route.name, target: route.targetLabel, alpn, tlsVersions: versions });
  }
  runMode(c, route.mode, route);
}
