/**
 * `tls.mode: 'terminate'` and `'terminate-and-reencrypt'` (DESIGN §1 L4). Routing has already
 * read the ClientHello; the peeked bytes are put back and the client socket is wrapped in a
 * server-side TLS socket with the route's certificate. Once the handshake completes the
 * decrypted stream replaces the client side of the connection and the route's inner mode takes
 * it over: the tunnel (the same upstream connect and byte pump as passthrough; re-encrypting
 * routes connect with TLS, verification on by default) or HTTP. Every handshake outcome is one
 * close reason.
 */
import tls from 'node:tls';
import { FaultSite } from '../core/channels.js';
import { CloseReason, EndKind, Initiator, Phase } from '../core/close-reasons.js';
import { tlsMaterialOf } from '../config/tls-material.js';
import type { CompiledRoute } from '../routing/route-table.js';
import { Deadline, kConn, type Connection, type ConnSocket } from '../net/connection.js';
import { Listeners, runMode, type Mode, type Route } from '../net/mode.js';

const HTTP1_ALPN = ['http/1.1'];
const contexts = new WeakMap<CompiledRoute, tls.SecureContext | Error>();
/** The mode that takes the decrypted stream, per terminating mode value. */
const innerOf = new WeakMap<Mode, Mode>();

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
  if (cert === 'auto')
    return new Error(`route "${route.name}": certificate 'auto' (ACME) is not supported; give key and cert`);
  // Built and checked when the configuration was loaded (config/tls-material.ts): no file is read here.
  return (
    tlsMaterialOf(t!)?.secureContext ??
    new Error(`route "${route.name}": certificate not loaded (the route was not validated)`)
  );
}

/**
 * The terminating mode whose decrypted stream goes to `inner` (the tunnel, or HTTP): one value
 * per inner mode, built by the mode table (proxy/modes.ts).
 */
export function tlsTerminate(inner: Mode): Mode {
  const mode: Mode = { ...TLS_HOOKS, start: terminate };
  innerOf.set(mode, inner);
  return mode;
}

function terminate(c: Connection, route: Route): void {
  const sc = secureContextFor(route);
  if (sc instanceof Error) {
    c.close(CloseReason.TlsNoCertificate, Initiator.Proxy, EndKind.Local, sc);
    return;
  }
  c.isTLS = true;
  c.enter(Phase.TlsHandshake);
  const raw = c.client;
  const pending = c.takePending();
  if (pending !== null) raw.unshift(pending); // the TLS socket feeds buffered bytes to OpenSSL first
  // HTTP routes speak HTTP/1.1 only: say so in ALPN, so a client offering h2 falls back.
  const alpn = route.protocol === 'http' ? HTTP1_ALPN : undefined;
  const t = new tls.TLSSocket(raw, { isServer: true, secureContext: sc, ALPNProtocols: alpn }) as tls.TLSSocket &
    ConnSocket;
  // From here on the TLS socket is the client side (the socket under it goes quiet).
  c.adoptClient(t);
  HANDSHAKE.attach(t);
  c.armDeadline(Deadline.Mode, route.config.action.tls?.handshakeTimeout ?? 10_000);
}

/** What the record asks while the handshake runs (after it, the inner mode answers). */
const TLS_HOOKS = {
  name: 'tls-terminate',
  site: FaultSite.Tls,
  deadline(c: Connection): void {
    c.close(CloseReason.TlsHandshakeTimeout);
  },
  clientError(c: Connection, err: NodeJS.ErrnoException): boolean {
    if (err.code === 'ECONNRESET') c.decide(CloseReason.TlsClientAbort, Initiator.Client, EndKind.Rst, err);
    else c.decide(CloseReason.TlsProtocolError, Initiator.Client, EndKind.Error, err);
    return true;
  },
  /** FIN mid-handshake: the client gave up. */
  clientEnd(c: Connection): void {
    c.close(CloseReason.TlsClientAbort, Initiator.Client, EndKind.Fin);
  },
  clientClosed(c: Connection): void {
    if (c.reason === null) c.decide(CloseReason.TlsClientAbort, Initiator.Client, EndKind.Fin);
  },
} as const;

const HANDSHAKE = new Listeners(FaultSite.Tls, {
  secure(this: ConnSocket): void {
    const c = this[kConn]!;
    c.disarmDeadline();
    const route = c.route!;
    const inner = innerOf.get(route.mode);
    if (inner === undefined) throw new Error(`route "${route.name}": terminating mode without an inner mode`);
    runMode(c, inner, route);
  },
});
