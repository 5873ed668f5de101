/**
 * Close reasons of any connection (accept, admission, peek, routing, TLS, connecting, the tunnel,
 * the lifecycle timers): their rows of the close-reason table (close-reason-table.ts says what
 * each attribute means; an attribute left out has its default: abnormal, no cause, no counter of
 * its own, logged at info, no advice).
 */
import type { CloseReason } from './close-reasons.js';
import type { CloseReasonRow } from './close-reason-table.js';

export const CONNECTION_ROWS = {
  client_closed: {
    normal: true,
    initiator: 'client',
    cause: 'peer-end',
    doc: 'the client sent FIN first; both directions then finished',
  },
  backend_closed: {
    normal: true,
    initiator: 'backend',
    cause: 'peer-end',
    doc: 'the backend sent FIN first; both directions then finished',
  },
  client_reset: {
    initiator: 'client',
    cause: 'peer-end',
    advice: 'client-reset',
    doc: 'the client aborted with RST; the backend is torn down',
  },
  backend_reset: {
    initiator: 'backend',
    cause: 'peer-end',
    advice: 'backend-reset',
    doc: 'the backend aborted with RST; passed on to the client as RST',
  },
  client_error: {
    initiator: 'client',
    cause: 'peer-end',
    advice: 'client-socket-error',
    doc: 'another socket error on the client side (EPIPE, ...; unanswered keep-alive probes are `client_keepalive_timeout`)',
  },
  backend_error: {
    initiator: 'backend',
    cause: 'peer-end',
    advice: 'backend-socket-error',
    doc: 'another socket error on the backend side (EPIPE, ...; unanswered keep-alive probes are `backend_keepalive_timeout`)',
  },
  // Not a peer-end: the kernel's keep-alive probes found the peer gone, a cause of its own that a
  // WebSocket keeps rather than folding it into ws_abnormal_close.
  client_keepalive_timeout: {
    initiator: 'client',
    log: 'warn',
    advice: 'client-keepalive',
    doc: 'ETIMEDOUT on the client socket with TCP keep-alive on and nothing waiting to be written: keep-alive probes went unanswered (the client, or a NAT / firewall between, vanished silently)',
  },
  backend_keepalive_timeout: {
    initiator: 'backend',
    log: 'warn',
    advice: 'backend-keepalive',
    doc: 'the same on the backend socket',
  },
  backend_connect_failed: {
    initiator: 'backend',
    metric: 'connect',
    advice: 'backend-unreachable',
    doc: 'the backend refused or was unreachable',
  },
  backend_dns_failed: {
    initiator: 'backend',
    metric: 'connect',
    advice: 'backend-dns',
    doc: "the backend's name did not resolve while connecting (ENOTFOUND, EAI_AGAIN, EAI_FAIL, EAI_NONAME); 502 on HTTP routes",
  },
  backend_connect_timeout: {
    initiator: 'proxy',
    metric: 'connect',
    advice: 'backend-connect-timeout',
    doc: 'the backend did not accept within `connectionTimeout`',
  },
  initial_data_timeout: {
    initiator: 'proxy',
    advice: 'initial-data-timeout',
    doc: 'no ClientHello / PROXY header within `initialDataTimeout`',
  },
  closed_before_data: { initiator: 'client', doc: 'the client closed before sending what routing needed' },
  client_hello_invalid: {
    initiator: 'proxy',
    metric: 'client-hello',
    doc: 'a TLS handshake record that is not a well-formed ClientHello',
  },
  client_hello_too_large: {
    initiator: 'proxy',
    metric: 'client-hello',
    doc: 'the ClientHello is larger than `maxClientHelloSize`',
  },
  not_tls: {
    initiator: 'proxy',
    metric: 'client-hello',
    doc: 'the port needs SNI and the first bytes are not TLS (no catch-all route)',
  },
  proxy_protocol_invalid: { initiator: 'proxy', doc: 'a trusted `proxyIPs` peer sent a malformed or no PROXY header' },
  pending_data_limit: {
    initiator: 'proxy',
    metric: 'limit',
    doc: 'bytes held before the tunnel exists went over `maxPendingDataSize`',
  },
  no_route: { initiator: 'proxy', doc: 'no route matched and there is no `defaults.target`' },
  target_resolution_failed: {
    initiator: 'proxy',
    doc: "the route's target function threw or gave no usable host/port",
  },
  tls_handshake_timeout: {
    initiator: 'proxy',
    metric: 'tls-handshake',
    advice: 'tls-handshake-timeout',
    doc: "a terminating route's TLS handshake did not finish within `tls.handshakeTimeout`",
  },
  tls_no_certificate: {
    initiator: 'proxy',
    metric: 'tls-handshake',
    doc: "a terminating route has no usable certificate (none, `'auto'`, or unreadable PEM)",
  },
  tls_protocol_error: {
    initiator: 'client',
    metric: 'tls-handshake',
    doc: "the client's TLS handshake failed (bad record, version below `minVersion`, no shared cipher)",
  },
  tls_client_abort: {
    initiator: 'client',
    metric: 'tls-handshake',
    doc: 'the client left in the middle of the TLS handshake',
  },
  backend_tls_error: {
    initiator: 'backend',
    metric: 'connect',
    doc: "re-encrypting: the backend's handshake failed or its certificate was not trusted",
  },
  inactivity: {
    initiator: 'proxy',
    sweep: true,
    cause: 'cap',
    metric: 'inactivity',
    log: 'warn',
    advice: 'idle-timeout',
    doc: 'idle past the effective idle timeout (after the warning grace under `extended`)',
  },
  lifetime: {
    initiator: 'proxy',
    sweep: true,
    cause: 'cap',
    advice: 'age-cap',
    doc: 'older than the age cap (`maxConnectionLifetime` / `extendedKeepAliveLifetime`)',
  },
  socket_timeout: {
    initiator: 'proxy',
    sweep: true,
    cause: 'cap',
    advice: 'socket-timeout',
    doc: 'a connection that is not keep-alive idle past `socketTimeout`',
  },
  half_zombie: {
    initiator: 'proxy',
    sweep: true,
    cause: 'detector',
    metric: 'zombie',
    log: 'warn',
    advice: 'half-zombie-grace',
    doc: 'one side gone, nothing moved in the other direction for the half-zombie grace',
  },
  stuck: {
    initiator: 'proxy',
    sweep: true,
    cause: 'detector',
    metric: 'zombie',
    log: 'warn',
    advice: 'stuck-threshold',
    doc: 'the client spoke, the backend never answered, nothing moved for the stuck threshold',
  },
  write_stall: {
    initiator: 'client',
    sweep: true,
    cause: 'detector',
    log: 'warn',
    advice: 'write-stall',
    doc: 'a peer read none of the bytes waiting for it for `lifecycle.writeStallTimeout` (60 s): its socket held unsent bytes and the kernel took none; the initiator is the peer that stopped reading',
  },
  ip_blocked: {
    rejection: true,
    initiator: 'proxy',
    doc: 'refused at accept by `defaults.security` allow/block lists',
  },
  route_ip_blocked: { rejection: true, initiator: 'proxy', doc: "refused by the route's `security` allow/block lists" },
  global_connection_limit: {
    rejection: true,
    initiator: 'proxy',
    metric: 'limit',
    doc: '`defaults.security.maxConnections` reached',
  },
  ip_connection_limit: {
    rejection: true,
    initiator: 'proxy',
    metric: 'limit',
    doc: '`maxConnectionsPerIP` reached for the client address',
  },
  rate_limited: {
    rejection: true,
    initiator: 'proxy',
    metric: 'limit',
    doc: '`connectionRateLimitPerMinute` exceeded for the client address',
  },
  route_connection_limit: {
    rejection: true,
    initiator: 'proxy',
    metric: 'limit',
    doc: "the route's `security.maxConnections` reached",
  },
  route_ip_connection_limit: {
    rejection: true,
    initiator: 'proxy',
    metric: 'limit',
    doc: "the route's `security.maxConnectionsPerIP` reached",
  },
  shutdown: {
    initiator: 'proxy',
    cause: 'drain',
    advice: 'shutdown',
    doc: "still open when `stop()`'s `gracefulShutdownTimeout` ran out (or arrived while draining)",
  },
  // Abnormal like shutdown (the peers did not end it, so it is traced and counted apart), and a
  // drain: an operator's deliberate act is neither a disconnect pattern nor an abnormal finding.
  // Logged at warn, unlike shutdown: one connection cut by hand is worth seeing in the log.
  admin_closed: {
    initiator: 'proxy',
    cause: 'drain',
    log: 'warn',
    advice: 'admin-close',
    doc: 'an operator closed it: `POST /api/connections/:id/close` (admin token required) or `proxy.closeConnection(id)`; both sockets destroyed',
  },
  handler_closed: {
    normal: true,
    initiator: 'client',
    doc: "a `socket-handler` route's socket ended under the handler's control",
  },
  internal_error: {
    initiator: 'proxy',
    doc: 'an exception escaped a listener, timer or pool callback (a bug); only that connection closes, `sightline_internal_errors_total{site}` counts it, the stack is logged (once per site per 10 s), the proxy keeps running',
  },
  local_resource_exhausted: {
    initiator: 'proxy',
    doc: 'the proxy ran out of descriptors or local ports (EMFILE, ENFILE, EADDRNOTAVAIL) connecting to the backend; the backend is not to blame. Descriptor exhaustion (EMFILE/ENFILE, at connect or accept) pauses every listener (backoff 100 ms → 2 s) and `/readyz` answers 503 naming the errno while it lasts',
  },
} satisfies Partial<Record<CloseReason, CloseReasonRow>>;
