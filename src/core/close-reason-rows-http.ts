/**
 * Close reasons of HTTP exchanges and WebSockets: their rows of the close-reason table
 * (close-reason-table.ts says what each attribute means and what a left-out one defaults to).
 */
import type { CloseReason } from './close-reasons.js';
import type { CloseReasonRow } from './close-reason-table.js';

export const HTTP_ROWS = {
  http_completed: {
    normal: true,
    initiator: 'backend',
    doc: "an HTTP exchange got its whole response (any status; the status class is recorded beside it). A request outcome, never a connection's",
  },
  http_bad_request: {
    initiator: 'client',
    doc: 'a malformed request head (400), an HTTP version other than 1.0/1.1 (505), or a request body that breaks its framing',
  },
  http_request_smuggling: {
    initiator: 'client',
    doc: 'conflicting or duplicated Content-Length / Transfer-Encoding (400); never forwarded',
  },
  http_headers_too_large: {
    initiator: 'client',
    doc: 'a request head over `http.maxHeaderSize` bytes or `http.maxHeaderCount` fields (431)',
  },
  http_headers_timeout: {
    initiator: 'client',
    advice: 'http-headers-timeout',
    doc: 'a request head not complete within `http.requestHeadersTimeout` of its first byte (408)',
  },
  http_body_timeout: {
    initiator: 'client',
    advice: 'http-body-timeout',
    doc: 'no byte of a request body still due arrived for `http.requestBodyTimeout` (60 s, between reads, nginx `client_body_timeout`): 408, or a close once the response started',
  },
  http_keep_alive_timeout: {
    normal: true,
    initiator: 'proxy',
    cause: 'cap',
    advice: 'http-keep-alive-timeout',
    doc: 'a client connection idle between requests past `http.keepAliveTimeout`',
  },
  http_response_timeout: {
    initiator: 'backend',
    advice: 'http-response-timeout',
    doc: 'the backend did not start its response within `http.responseTimeout` (504)',
  },
  http_bad_response: {
    initiator: 'backend',
    doc: "the backend's response head was malformed, or it closed before answering (502)",
  },
  http_upstream_busy: {
    initiator: 'proxy',
    doc: 'every upstream socket of the backend stayed busy for `http.upstream.queueTimeout` (503)',
  },
  http_nominated_field: {
    initiator: 'client',
    doc: "the request's `Connection` names `Content-Length`, `Transfer-Encoding`, `Host` or a header a route matches on (400); never forwarded",
  },
  http_response_nominated_field: {
    initiator: 'backend',
    doc: "the backend's `Connection` names `Content-Length` or `Transfer-Encoding` (502); its socket is destroyed",
  },
  http_bad_path: {
    initiator: 'client',
    doc: 'the path has `%2F` / `%5C` / `\\` / `;` refused by `http.path`, a bad `%` escape or a fragment (400)',
  },
  http_misdirected_request: {
    initiator: 'client',
    doc: 'on a terminated route, the Host is served by another certificate than the SNI chose (421)',
  },
  ws_upgrade_rejected: {
    initiator: 'backend',
    advice: 'websocket-upgrade-rejected',
    doc: 'the backend answered a WebSocket upgrade with something other than 101 (relayed to the client)',
  },
  ws_closed: {
    normal: true,
    initiator: 'client',
    doc: 'a WebSocket ended after a close frame; the initiator sent the first one, its code is in the event',
  },
  ws_abnormal_close: {
    initiator: 'client',
    advice: 'websocket-no-close-frame',
    doc: "a WebSocket's TCP connection ended without any close frame (browsers report 1006)",
  },
  ws_protocol_error: { initiator: 'client', doc: 'a peer broke RFC 6455 framing; the proxy sent close 1002 to both' },
  ws_message_too_large: {
    initiator: 'client',
    doc: "a WebSocket message over the route's `websocket.maxPayloadSize`; the proxy sent close 1009",
  },
  heartbeat_timeout: {
    initiator: 'proxy',
    cause: 'detector',
    metric: 'heartbeat',
    log: 'warn',
    advice: 'websocket-heartbeat',
    doc: "the client did not answer the proxy's ping within `websocket.pingTimeout` (close 1001 to both)",
  },
} satisfies Partial<Record<CloseReason, CloseReasonRow>>;
