/**
 * The one closed set of reasons a connection can end with (DESIGN §2.2).
 * It is the single source for the access-log field, the metric label and the span attribute.
 * What each reason is (normal or abnormal, a refusal, its counter, log level, usual initiator,
 * advice, docs line) is its row in close-reason-table.ts, which every consumer derives from.
 */
import { closeReasonInfo } from './close-reason-table.js';

export const CloseReason = {
  /** Client sent FIN first; both directions then finished normally. */
  ClientClosed: 'client_closed',
  /** Backend sent FIN first; both directions then finished normally. */
  BackendClosed: 'backend_closed',
  /** Client aborted with RST (ECONNRESET). */
  ClientReset: 'client_reset',
  /** Backend aborted with RST (ECONNRESET). */
  BackendReset: 'backend_reset',
  /** Other socket error on the client side (EPIPE, ...; keep-alive probe timeouts are ClientKeepAliveTimeout). */
  ClientError: 'client_error',
  /** Other socket error on the backend side. */
  BackendError: 'backend_error',
  /** Backend refused or unreachable while connecting (a name that does not resolve is BackendDnsFailed). */
  BackendConnectFailed: 'backend_connect_failed',
  /** Backend did not accept within `connectionTimeout`. */
  BackendConnectTimeout: 'backend_connect_timeout',
  /** No first bytes (ClientHello / PROXY header) within `initialDataTimeout`. */
  InitialDataTimeout: 'initial_data_timeout',
  /** Client closed before sending the bytes routing needed. */
  ClosedBeforeData: 'closed_before_data',
  /** First bytes are a TLS handshake record that is not a well-formed ClientHello. */
  ClientHelloInvalid: 'client_hello_invalid',
  /** ClientHello larger than `maxClientHelloSize`. */
  ClientHelloTooLarge: 'client_hello_too_large',
  /** Port needs TLS to route and the first bytes are not TLS. */
  NotTls: 'not_tls',
  /** PROXY protocol header malformed (from a trusted `proxyIPs` peer). */
  ProxyProtocolInvalid: 'proxy_protocol_invalid',
  /** Bytes held before the tunnel exists went over `maxPendingDataSize`. */
  PendingDataLimit: 'pending_data_limit',
  /** No route matched and no `defaults.target`. */
  NoRoute: 'no_route',
  /** Route target function threw or returned nothing usable. */
  TargetResolutionFailed: 'target_resolution_failed',
  /** TLS handshake (terminating routes) not finished within `tls.handshakeTimeout`. */
  TlsHandshakeTimeout: 'tls_handshake_timeout',
  /** A terminating route has no usable certificate for this connection. */
  TlsNoCertificate: 'tls_no_certificate',
  /** The client's TLS handshake failed (bad record, no shared cipher or version, ...). */
  TlsProtocolError: 'tls_protocol_error',
  /** The client went away in the middle of the TLS handshake. */
  TlsClientAbort: 'tls_client_abort',
  /** Re-encrypting: the backend's TLS handshake failed or its certificate was not trusted. */
  BackendTlsError: 'backend_tls_error',
  /** Connection idle past its effective inactivity timeout. */
  Inactivity: 'inactivity',
  /** Connection older than its age cap (`maxConnectionLifetime` / `extendedKeepAliveLifetime`). */
  Lifetime: 'lifetime',
  /** Socket idle past `socketTimeout` (never applied to keep-alive connections). */
  SocketTimeout: 'socket_timeout',
  /** One side gone, the other still open and silent past the half-zombie grace. */
  HalfZombie: 'half_zombie',
  /** Client sent bytes, backend sent none, past the stuck threshold. */
  Stuck: 'stuck',
  /** Client IP on a global block list or missing from a global allow list. */
  IpBlocked: 'ip_blocked',
  /** Client IP refused by the route's `security` lists. */
  RouteIpBlocked: 'route_ip_blocked',
  /** Global `defaults.security.maxConnections` reached. */
  GlobalConnectionLimit: 'global_connection_limit',
  /** Global `maxConnectionsPerIP` reached. */
  IpConnectionLimit: 'ip_connection_limit',
  /** `connectionRateLimitPerMinute` exceeded for the client IP. */
  RateLimited: 'rate_limited',
  /** Route `security.maxConnections` reached. */
  RouteConnectionLimit: 'route_connection_limit',
  /** Route `security.maxConnectionsPerIP` reached. */
  RouteIpConnectionLimit: 'route_ip_connection_limit',
  /** Closed by `stop()` after `gracefulShutdownTimeout`. */
  Shutdown: 'shutdown',
  /** Socket handed to a `socket-handler` route; it ended under the handler's control. */
  HandlerClosed: 'handler_closed',
  // ---- HTTP (per request outcomes, and the reasons an HTTP connection can end with) ----
  /** A request got its whole response (any status; the status class is recorded beside it). */
  HttpCompleted: 'http_completed',
  /** A malformed request head (400), or an HTTP version other than 1.0/1.1 (505). */
  HttpBadRequest: 'http_bad_request',
  /** Conflicting or duplicated Content-Length / Transfer-Encoding: a smuggling attempt (400). */
  HttpRequestSmuggling: 'http_request_smuggling',
  /** A request head over `http.maxHeaderSize` bytes or `http.maxHeaderCount` fields (431). */
  HttpHeadersTooLarge: 'http_headers_too_large',
  /** A request head not complete within `http.requestHeadersTimeout` of its first byte (408). */
  HttpHeadersTimeout: 'http_headers_timeout',
  /** A client connection idle between requests past `http.keepAliveTimeout`. */
  HttpKeepAliveTimeout: 'http_keep_alive_timeout',
  /** The backend did not start its response within `http.responseTimeout` (504). */
  HttpResponseTimeout: 'http_response_timeout',
  /** The backend's response head was malformed, or it ended before a response (502). */
  HttpBadResponse: 'http_bad_response',
  /** Every upstream socket of the backend was busy for `http.upstream.queueTimeout` (503). */
  HttpUpstreamBusy: 'http_upstream_busy',
  // ---- HTTP request integrity (issue 10) ----
  /** The request's Connection header names a field it is framed or routed by (400). */
  HttpNominatedField: 'http_nominated_field',
  /** The backend's Connection header names a field its response is framed by (502). */
  HttpResponseNominatedField: 'http_response_nominated_field',
  /** The request path is refused by `http.path` (escaped slash, `;` parameter, bad escape) (400). */
  HttpBadPath: 'http_bad_path',
  /** A terminated request whose Host is served by another certificate than its SNI's (421). */
  HttpMisdirectedRequest: 'http_misdirected_request',
  // ---- WebSocket (after an upgrade on an HTTP route) ----
  /** The WebSocket ended with a close frame (its code is recorded); the initiator sent it first. */
  WsClosed: 'ws_closed',
  /** The WebSocket's TCP connection ended without a close frame (what browsers report as 1006). */
  WsAbnormalClose: 'ws_abnormal_close',
  /** A peer sent frames that break RFC 6455 (the proxy sends close 1002). */
  WsProtocolError: 'ws_protocol_error',
  /** A message over the route's `websocket.maxPayloadSize` (the proxy sends close 1009). */
  WsMessageTooLarge: 'ws_message_too_large',
  /** The client did not answer the proxy's ping within `websocket.pingTimeout`. */
  HeartbeatTimeout: 'heartbeat_timeout',
  /** A bug: an exception escaped a handler. Counted; the proxy keeps running. */
  InternalError: 'internal_error',
  // ---- issue 11: the proxy's own resources ----
  /** The proxy ran out of descriptors or local ports (EMFILE, ENFILE, EADDRNOTAVAIL) for this connection. */
  LocalResourceExhausted: 'local_resource_exhausted',
  // ---- issue 14: the connection story (names agreed in the team; the table is the "reasons" helper's) ----
  /** An operator closed it: `POST /api/connections/:id/close` or `proxy.closeConnection(id)`. */
  AdminClosed: 'admin_closed',
  /** A peer stopped reading while data waited for it past `writeStallTimeout`; initiator = that peer. */
  WriteStall: 'write_stall',
  /** TCP keep-alive probes to the client went unanswered (ETIMEDOUT with nothing unacknowledged). */
  ClientKeepAliveTimeout: 'client_keepalive_timeout',
  /** TCP keep-alive probes to the backend went unanswered. */
  BackendKeepAliveTimeout: 'backend_keepalive_timeout',
  /** The backend's name did not resolve (ENOTFOUND, EAI_AGAIN, EAI_FAIL, EAI_NONAME) while connecting. */
  BackendDnsFailed: 'backend_dns_failed',
  /** The backend answered a WebSocket upgrade with something other than 101 (relayed to the client). */
  WsUpgradeRejected: 'ws_upgrade_rejected',
  /** A request body not complete within `http.requestBodyTimeout` (408, or a close once a response started). */
  HttpBodyTimeout: 'http_body_timeout',
} as const;

export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

export const ALL_CLOSE_REASONS: readonly CloseReason[] = Object.freeze(Object.values(CloseReason));

/** Not part of normal traffic (the table's `normal`): always traced, counted apart. */
export function isAbnormal(reason: CloseReason): boolean {
  return closeReasonInfo(reason)?.normal !== true;
}

/** Refused by an IP list or a connection limit (the table's `rejection`): it never carried traffic. */
export function isRejection(reason: CloseReason): boolean {
  return closeReasonInfo(reason)?.rejection === true;
}

/** Who caused the end: a peer, or the proxy's own decision (timeouts, limits, routing). */
export const Initiator = { Client: 'client', Backend: 'backend', Proxy: 'proxy' } as const;
export type Initiator = (typeof Initiator)[keyof typeof Initiator];

/** How the side that went first ended. */
export const EndKind = { Fin: 'fin', Rst: 'rst', Error: 'error', Local: 'local' } as const;
export type EndKind = (typeof EndKind)[keyof typeof EndKind];

/** Where in its life the connection was when it closed (DESIGN §1, one connection one way). */
export const Phase = {
  Admission: 'admission',
  ProxyHeader: 'proxy_header',
  Peek: 'peek',
  Routing: 'routing',
  TlsHandshake: 'tls_handshake',
  Connecting: 'connecting',
  Tunnel: 'tunnel',
  /** Reading HTTP/1.1 requests and relaying responses (terminated or plain HTTP routes). */
  Http: 'http',
  Handler: 'handler',
  Draining: 'draining',
  Closed: 'closed',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];
