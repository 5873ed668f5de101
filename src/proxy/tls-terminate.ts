/**
 * `tls.mode: 'terminate'` and `'terminate-and-reencrypt'` (DESIGN §1 L4). Routing has already
 * read the ClientHello; the peeked bytes are put back and the client socket is wrapped in a
 * server-side TLS socket with the route's certificate. Once the handshake completes the
 * decrypted stream replaces the client side of the connection and goes through the same
 * upstream connect and byte pump as passthrough (re-encrypting routes connect with TLS,
 * verification on by default). Every handshake outcome is one close reason.
 */
import tls from 'node:tls';
import { FaultSite } from '../core/channels.js';
import { CloseReason, EndKind, Initiator, Phase } from '../core/close-reasons.js';
import { tlsMaterialOf } from '../config/tls-material.js';
import type { CompiledRoute } from '../routing/route-table.js';
import { Deadline, kConn, type Connection, type ConnSocket } from '../net/connection.js';
import type { ProxyContext } from '../net/context.js';
import { onClientClose, onClientEnd } from '../net/pump.js';
import { connectUpstream } from '../net/upstream.js';
import { guarded } from '../net/guard.js';

const HTTP1_ALPN = ['http/1.1'];
const contexts = new WeakMap<CompiledRoute, tls.SecureContext | Error>();

/** The route's certificate as a SecureContext (built once per route), or why there is none. */
function secureContextFor(route: CompiledRoute): tls.SecureContext | Error {
  let sc = contexts.get(route);
  if (sc === undefined) {
    sc = buildContext(route);
    contexts.set(route, sc);
  }
  return sc;
}

function buildContext(route: CompiledRoute): tls.SecureContext | Error {
  const t = route.config.action.tls;
  const cert = t?.certificate;
  if (cert === undefined) return new Error(`route "${route.name}" terminates TLS but has no certificate`);
  if (cert === 'auto') return new Error(`route "${route.name}": certificate 'auto' (ACME) is not supported; give key and cert`);
  // Built and checked when the configuration was loaded (config/tls-material.ts): no file is read here.
  return tlsMaterialOf(t!)?.secureContext ?? new Error(`route "${route.name}": certificate not loaded (the route was not validated)`);
}

/** Register the terminating modes on a proxy context (called by the composition root). */
export function registerTlsModes(ctx: ProxyContext): void {
  ctx.modeHandlers.terminate = terminate;
  ctx.modeHandlers['terminate-and-reencrypt'] = terminate;
}

function terminate(c: Connection, route: CompiledRoute): void {
  const sc = secureContextFor(route);
  if (sc instanceof Error) {
    c.close(CloseReason.TlsNoCertificate, Initiator.Proxy, EndKind.Local, sc);
    return;
  }
  c.isTLS = true;
  c.phase = Phase.TlsHandshake;
  const raw = c.client;
  if (c.pending !== null) {
    raw.unshift(c.pending); // the TLS socket feeds buffered bytes to OpenSSL first
    c.pending = null;
  }
  // HTTP routes speak HTTP/1.1 only: say so in ALPN, so a client offering h2 falls back.
  const alpn = route.protocol === 'http' ? HTTP1_ALPN : undefined;
  const t = new tls.TLSSocket(raw, { isServer: true, secureContext: sc, ALPNProtocols: alpn }) as tls.TLSSocket & ConnSocket;
  t[kConn] = c;
  // From here on the TLS socket is the client side: closing the connection destroys it, and its
  // 'close' (a peer that leaves mid-handshake shows up only here) completes the record.
  c.client = t;
  t.on('error', onTlsError);
  t.on('close', onClientClose);
  t.on('end', onTlsEnd);
  t.once('secure', onTlsSecure);
  c.armDeadline(Deadline.Handshake, route.config.action.tls?.handshakeTimeout ?? 10_000);
}

const onTlsError = guarded<NodeJS.ErrnoException>(FaultSite.Tls, function onTlsError(this: ConnSocket, err: NodeJS.ErrnoException): void {
  const c = this[kConn]!;
  const rst = err.code === 'ECONNRESET';
  if (c.phase === Phase.TlsHandshake) {
    if (rst) c.decide(CloseReason.TlsClientAbort, Initiator.Client, EndKind.Rst, err);
    else c.decide(CloseReason.TlsProtocolError, Initiator.Client, EndKind.Error, err);
  } else if (rst) c.decide(CloseReason.ClientReset, Initiator.Client, EndKind.Rst, err);
  else c.decide(CloseReason.ClientError, Initiator.Client, EndKind.Error, err);
  // The raw socket's 'close' listener completes the record.
});

/** FIN on the TLS socket: mid-handshake the client gave up; afterwards a normal half-close. */
const onTlsEnd = guarded(FaultSite.Tls, function onTlsEnd(this: ConnSocket): void {
  const c = this[kConn]!;
  if (c.phase === Phase.TlsHandshake) c.close(CloseReason.TlsClientAbort, Initiator.Client, EndKind.Fin);
  else onClientEnd.call(this);
});

const onTlsSecure = guarded(FaultSite.Tls, function onTlsSecure(this: ConnSocket): void {
  const c = this[kConn]!;
  c.disarmDeadline();
  const route = c.route!;
  const http = route.protocol === 'http' ? c.ctx.httpHandler : null;
  if (http !== null) http(c, route);
  else connectUpstream(c, route);
});
