/**
 * Every diagnostics_channel the data path publishes on, named in one place (DESIGN §1: the core
 * publishes, telemetry subscribes; the data path imports no telemetry). Payloads are the live
 * connection record plus a few event-specific fields; subscribers must not keep or mutate them.
 */
import diagnostics from 'node:diagnostics_channel';
import type { CloseReason, EndKind, Initiator, Phase } from './close-reasons.js';

export const CHANNEL_NAMES = {
  accept: 'sightline:connection:accept',
  route: 'sightline:connection:route',
  backendConnected: 'sightline:connection:backend-connected',
  close: 'sightline:connection:close',
  lifecycle: 'sightline:connection:lifecycle',
  phase: 'sightline:phase',
  httpRequestStart: 'sightline:http:request-start',
  httpRequest: 'sightline:http:request',
  proxy: 'sightline:proxy',
  // ---- issue 11: faults and resources (one block) ----
  internalError: 'sightline:internal-error',
  resource: 'sightline:resource',
} as const;

/** What every event carries about its connection (a read-only view of the record). */
export interface ConnectionView {
  /** Which SightlineProxy instance (several can share a process, e.g. in tests). */
  readonly proxyId: number;
  readonly id: number;
  readonly listenPort: number;
  /** The client address: the TCP peer, or the source a trusted PROXY header named. */
  readonly clientIP: string;
  readonly clientPort: number;
  /** Seed compatibility: the same as clientIP / clientPort. */
  readonly remoteIP: string;
  readonly remotePort: number;
  /** The TCP peer of the accepted socket (differs from remoteIP behind a PROXY-protocol LB). */
  readonly peerIP: string;
  readonly peerPort: number;
  readonly routeName: string | null;
  readonly serverName: string | null;
  readonly isTLS: boolean;
  readonly phase: Phase;
  readonly incomingStartTime: number;
  /** 'standard' | 'extended' | 'immortal' (keep-alive connections) or 'standard'. */
  readonly keepAliveTreatment: string;
  /** The route's TLS mode and protocol, e.g. 'passthrough', 'terminate+http', 'plain+tcp'; null before routing. */
  readonly mode: string | null;
  // ---- cross-hop correlation (issue 14; optional so that hand-made views need not carry them) ----
  /** Unique across processes and machines; sent to the next hop in a PROXY v2 TLV. */
  readonly uniqueId?: string;
  /** The previous hop's unique id (an incoming PROXY v2 header's PP2_TYPE_UNIQUE_ID), or null. */
  readonly previousHopId?: string | null;
  /** The connection story (issue 14 point 5): its configuration generation. */
  readonly story: ConnectionStoryView;
}

/** What telemetry reads of a live connection's story record (net/story.ts). */
export interface ConnectionStoryView {
  /** The configuration generation it was routed under (1 at start, +1 per reload; before routing: the current one). */
  readonly configGeneration: number;
}

export interface AcceptEvent {
  readonly conn: ConnectionView;
}
export interface RouteEvent {
  readonly conn: ConnectionView;
  readonly routeName: string;
  readonly target: string;
  readonly alpn: readonly string[];
  readonly tlsVersions: readonly string[];
}
export interface BackendConnectedEvent {
  readonly conn: ConnectionView;
  readonly target: string;
  readonly connectMs: number;
}
export interface CloseEvent {
  readonly conn: ConnectionView;
  readonly reason: CloseReason;
  readonly initiator: Initiator;
  /** The side whose socket ended first (FIN, RST or error), null when the proxy decided first. */
  readonly firstSide: 'client' | 'backend' | null;
  /** How the deciding event ended it: FIN, RST, another socket error, or a local decision. */
  readonly endKind: EndKind;
  /** Phase the connection was in when its fate was decided. */
  readonly phase: Phase;
  readonly durationMs: number;
  readonly idleAtCloseMs: number;
  readonly bytesFromClient: number;
  readonly bytesToClient: number;
  readonly target: string | null;
  readonly error: string | null;
  /** HTTP connections: requests carried. */
  readonly http?: { readonly requests: number };
  /** Upgraded WebSocket connections: how the WebSocket ended. */
  readonly websocket?: WebSocketCloseInfo;
  // ---- issue 14 point 5: the connection story ----
  /** The configuration generation the connection was routed under (1 at start, +1 per reload). */
  readonly configGeneration: number;
  /** Milliseconds from accept to each milestone the connection reached. */
  readonly milestonesMs: MilestoneOffsets;
}

/**
 * Milliseconds from accept to each step a connection reached (absent: never reached). `c2b*`:
 * bytes handed from the client to the backend; `b2c*`: from the backend to the client.
 */
export interface MilestoneOffsets {
  readonly hello?: number;
  readonly routed?: number;
  readonly upstream?: number;
  readonly c2bFirst?: number;
  readonly c2bLast?: number;
  readonly b2cFirst?: number;
  readonly b2cLast?: number;
}

export interface WebSocketCloseInfo {
  /** The close code of the first close frame, 1005 for a close frame without one, 1006 for none. */
  readonly closeCode: number;
  /** Whether any close frame was seen (false: the TCP connection simply ended, "1006"). */
  readonly closeFrame: boolean;
  /** Who sent the first close frame (the proxy itself on heartbeat timeout, limits, shutdown). */
  readonly closedBy: 'client' | 'backend' | 'proxy' | null;
  /** Pings the proxy sent and pongs it got back (heartbeat). */
  readonly pingsSent: number;
  readonly pongsReceived: number;
}

/**
 * An HTTP request is about to be sent to its backend (published synchronously). `traceparent`
 * holds the client's W3C traceparent (or null); a subscriber (tracing) may replace it with its
 * own span's, which is then what the backend receives.
 */
export interface HttpRequestStartEvent {
  readonly conn: ConnectionView;
  readonly routeName: string;
  readonly method: string;
  /** The request-target as received (path and query). */
  readonly target: string;
  readonly host: string | null;
  /** The backend host:port. */
  readonly upstream: string;
  traceparent: string | null;
  tracestate: string | null;
}

/** One HTTP request/response exchange on an HTTP route (published when it ends). */
export interface HttpRequestEvent {
  readonly conn: ConnectionView;
  readonly routeName: string | null;
  readonly method: string;
  /** Status sent to the client (the backend's, or the proxy's own 4xx/5xx); 0 when none was sent. */
  readonly status: number;
  /** '1xx'..'5xx', or 'none' when the client got no response. */
  readonly statusClass: string;
  /** `http_completed`, or why the exchange failed (the same closed set as connection closes). */
  readonly reason: CloseReason;
  readonly target: string | null;
  readonly durationMs: number;
  /** The upstream socket had carried an earlier request (keep-alive reuse). */
  readonly reusedUpstream: boolean;
  /** The exchange became a WebSocket (101). */
  readonly upgraded: boolean;
  /** What went wrong, in words, when the exchange failed. */
  readonly error: string | null;
}
/** Lifecycle moments that are not a close: idle warning, half-close, drain, ... (issue 3+). */
export interface LifecycleEvent {
  readonly conn: ConnectionView;
  readonly kind: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}
/** A connection moved from one phase to the next (Connection.enter: the one place phases change). */
export interface PhaseEvent {
  readonly conn: ConnectionView;
  readonly from: Phase;
  readonly to: Phase;
}
/** Proxy-level moments: started, stopping, stopped, routes updated, a reload refused. */
export interface ProxyEvent {
  readonly kind: 'started' | 'draining' | 'stopped' | 'routes-updated' | 'reload-failed';
  readonly detail?: Readonly<Record<string, unknown>>;
}

// ---- issue 11: faults and resources -------------------------------------------------------------

/** Where an exception escaped: the guarded listener, timer or callback kind (a bounded set). */
export const FaultSite = {
  /** Accepting a socket: record, admission, routing at accept. */
  Accept: 'accept',
  /** Reading the PROXY header / ClientHello, and the routing and mode start it leads to. */
  Peek: 'peek',
  /** The client socket's lifecycle listeners (end, error, close) and the tunnel's byte pump. */
  Pump: 'pump',
  /** The tunnel mode: its start (target, backend connect) and the backend connected. */
  Connect: 'connect',
  /** A deadline on the timer wheel (connect, handshake, mode timers). */
  Timer: 'timer',
  /** The lifecycle sweep's rules for one connection. */
  Sweep: 'sweep',
  /** TLS termination: handshake listeners and the decrypted stream's start. */
  Tls: 'tls',
  /** The HTTP session's client-side listeners. */
  Http: 'http',
  /** Upstream pool sockets (HTTP) and the pool's own sweep. */
  Pool: 'pool',
  /** The WebSocket relay's frame scanners. */
  WebSocket: 'websocket',
  /** A `socket-handler` route's function (user code) threw. */
  Handler: 'handler',
} as const;
export type FaultSite = (typeof FaultSite)[keyof typeof FaultSite];
export const ALL_FAULT_SITES: readonly FaultSite[] = Object.freeze(Object.values(FaultSite));

/** An exception escaped data-path code; its connection (if any) was closed with `internal_error`. */
export interface InternalErrorEvent {
  readonly proxyId: number;
  readonly site: FaultSite;
  /** The connection it happened on (null: a proxy-wide callback, e.g. the pool sweep). */
  readonly conn: ConnectionView | null;
  readonly error: unknown;
}

/**
 * Running out of descriptors or ports, and accept errors: `exhausted` when an accept or a backend
 * connect failed for lack of descriptors/ports, `accept-error` for other errors on a listening
 * socket, `paused` when a listener stops accepting (backoff), `recovered` when it accepts again.
 */
export interface ResourceEvent {
  readonly proxyId: number;
  readonly kind: 'exhausted' | 'accept-error' | 'paused' | 'recovered';
  /** The errno code (EMFILE, ENFILE, EADDRNOTAVAIL, ...); null for `recovered`. */
  readonly code: string | null;
  /** The listening port (accept side), or null (backend connect). */
  readonly port: number | null;
  /** Where it happened: 'accept' or 'connect'. */
  readonly where: 'accept' | 'connect';
}

export const channels = {
  accept: diagnostics.channel(CHANNEL_NAMES.accept),
  route: diagnostics.channel(CHANNEL_NAMES.route),
  backendConnected: diagnostics.channel(CHANNEL_NAMES.backendConnected),
  close: diagnostics.channel(CHANNEL_NAMES.close),
  lifecycle: diagnostics.channel(CHANNEL_NAMES.lifecycle),
  phase: diagnostics.channel(CHANNEL_NAMES.phase),
  httpRequestStart: diagnostics.channel(CHANNEL_NAMES.httpRequestStart),
  httpRequest: diagnostics.channel(CHANNEL_NAMES.httpRequest),
  proxy: diagnostics.channel(CHANNEL_NAMES.proxy),
  internalError: diagnostics.channel(CHANNEL_NAMES.internalError),
  resource: diagnostics.channel(CHANNEL_NAMES.resource),
} as const;
