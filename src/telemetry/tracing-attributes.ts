/**
 * Span names, attribute keys and the attribute sets of Sightline's spans: OTel semantic
 * conventions where they exist (stable constants from @opentelemetry/semantic-conventions,
 * incubating ones copied here as the package advises), `sightline.*` for the rest.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_CLIENT_PORT,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_TRANSPORT,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  NETWORK_TRANSPORT_VALUE_TCP,
} from '@opentelemetry/semantic-conventions';
import type {
  CloseEvent,
  ConnectionView,
  HttpRequestEvent,
  HttpRequestStartEvent,
  MilestoneOffsets,
  RouteEvent,
} from '../core/channels.js';
import { CloseReason } from '../core/close-reasons.js';
import { correlationAttributes } from './correlation.js';

export const SPAN_CONNECTION = 'sightline.connection';
export const SPAN_SETUP = 'sightline.setup';
export const SPAN_CONNECT = 'sightline.upstream.connect';

// Incubating semantic conventions (copied, not imported: they may change between versions).
const ATTR_TLS_CLIENT_SERVER_NAME = 'tls.client.server_name';
const ATTR_HTTP_REQUEST_METHOD_ORIGINAL = 'http.request.method_original';

export const A = {
  connectionId: 'sightline.connection.id',
  tls: 'sightline.tls',
  route: 'sightline.route',
  mode: 'sightline.mode',
  target: 'sightline.target',
  keepAlive: 'sightline.keepalive.treatment',
  segmentIndex: 'sightline.segment.index',
  segmentFinal: 'sightline.segment.final',
  openAtShutdown: 'sightline.segment.open_at_shutdown',
  connectMs: 'sightline.connect_ms',
  upstream: 'sightline.upstream',
  requestReason: 'sightline.request.reason',
  configGeneration: 'sightline.config.generation',
} as const;

// ---- issue 14 point 5: milestones as span attributes, ms from accept ----
export const MILESTONE_ATTRIBUTES: Readonly<Record<keyof MilestoneOffsets, string>> = {
  hello: 'sightline.milestone.hello_ms',
  routed: 'sightline.milestone.routed_ms',
  upstream: 'sightline.milestone.upstream_ms',
  c2bFirst: 'sightline.milestone.c2b_first_ms',
  c2bLast: 'sightline.milestone.c2b_last_ms',
  b2cFirst: 'sightline.milestone.b2c_first_ms',
  b2cLast: 'sightline.milestone.b2c_last_ms',
};

function milestoneAttributes(m: MilestoneOffsets, a: Attributes): void {
  for (const k of Object.keys(m) as Array<keyof MilestoneOffsets>) {
    const v = m[k];
    if (v !== undefined) a[MILESTONE_ATTRIBUTES[k]] = v;
  }
}

/** Milliseconds (epoch-like, from the proxy's clock) as OTel HrTime, exact for whole ms. */
export function hr(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  const ns = Math.round((ms - s * 1000) * 1e6);
  return ns >= 1e9 ? [s + 1, ns - 1e9] : [s, ns];
}

/** "host:port" (IPv6 hosts too: split at the last colon) → semconv server.address / server.port. */
export function hostPort(hp: string | null, out: Attributes): Attributes {
  if (hp === null || hp === '') return out;
  const i = hp.lastIndexOf(':');
  const port = i === -1 ? NaN : Number(hp.slice(i + 1));
  const unbracket = (h: string): string => (h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h);
  if (Number.isInteger(port) && port > 0 && !hp.endsWith(']')) {
    out[ATTR_SERVER_ADDRESS] = unbracket(hp.slice(0, i));
    out[ATTR_SERVER_PORT] = port;
  } else {
    out[ATTR_SERVER_ADDRESS] = unbracket(hp);
  }
  return out;
}

/** What is known about a connection: set at the start of every segment and again at close. */
export function connectionAttributes(c: ConnectionView, target: string | null, segmentIndex: number): Attributes {
  const a: Attributes = {
    [ATTR_CLIENT_ADDRESS]: c.remoteIP,
    [ATTR_CLIENT_PORT]: c.remotePort,
    // The socket's peer: the client itself, or the load balancer that sent a PROXY header.
    [ATTR_NETWORK_PEER_ADDRESS]: c.peerIP,
    [ATTR_NETWORK_PEER_PORT]: c.peerPort,
    [ATTR_SERVER_PORT]: c.listenPort,
    [ATTR_NETWORK_TRANSPORT]: NETWORK_TRANSPORT_VALUE_TCP,
    [A.connectionId]: c.id,
    [A.tls]: c.isTLS,
    [A.keepAlive]: c.keepAliveTreatment,
    [A.segmentIndex]: segmentIndex,
    [A.configGeneration]: c.story.configGeneration,
  };
  if (c.serverName !== null) {
    a[ATTR_SERVER_ADDRESS] = c.serverName;
    a[ATTR_TLS_CLIENT_SERVER_NAME] = c.serverName;
  }
  if (c.routeName !== null) a[A.route] = c.routeName;
  // The route's TLS mode and protocol ('passthrough', 'terminate+http', ...), once routed.
  const mode = c.mode;
  if (typeof mode === 'string') a[A.mode] = mode;
  if (target !== null && target !== '') a[A.target] = target;
  // ---- cross-hop correlation (issue 14) ----
  return correlationAttributes(c, a);
}

export function routeAttributes(e: RouteEvent): Attributes {
  const a: Attributes = { [A.route]: e.routeName };
  if (e.target !== '') a[A.target] = e.target;
  if (e.alpn.length > 0) a['sightline.tls.alpn_offered'] = [...e.alpn];
  if (e.tlsVersions.length > 0) a['sightline.tls.versions_offered'] = [...e.tlsVersions];
  if (e.conn.serverName !== null) a[ATTR_TLS_CLIENT_SERVER_NAME] = e.conn.serverName;
  return a;
}

/** The close attributes of a connection's final segment. */
export function closeAttributes(e: CloseEvent, abnormal: boolean): Attributes {
  const a: Attributes = {
    'sightline.close.reason': e.reason,
    'sightline.close.initiator': e.initiator,
    'sightline.close.end_kind': e.endKind,
    'sightline.close.phase': e.phase,
    'sightline.duration_ms': e.durationMs,
    'sightline.idle_at_close_ms': e.idleAtCloseMs,
    'sightline.bytes.from_client': e.bytesFromClient,
    'sightline.bytes.to_client': e.bytesToClient,
    'sightline.abnormal': abnormal,
    [A.segmentFinal]: true,
  };
  milestoneAttributes(e.milestonesMs, a);
  if (e.firstSide !== null) a['sightline.close.first_side'] = e.firstSide;
  if (e.error !== null) a['sightline.close.error'] = e.error;
  if (abnormal) a[ATTR_ERROR_TYPE] = e.reason;
  if (e.http !== undefined) a['sightline.http.requests'] = e.http.requests;
  const ws = e.websocket;
  if (ws !== undefined) {
    a['sightline.websocket.close_code'] = ws.closeCode;
    a['sightline.websocket.close_frame'] = ws.closeFrame;
    if (ws.closedBy !== null) a['sightline.websocket.closed_by'] = ws.closedBy;
    a['sightline.websocket.pings_sent'] = ws.pingsSent;
    a['sightline.websocket.pongs_received'] = ws.pongsReceived;
  }
  return a;
}

const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

/** Semconv: the span is named after a known method, else `HTTP` with `_OTHER`. */
export function methodAttributes(method: string, a: Attributes): string {
  if (KNOWN_METHODS.has(method)) {
    a[ATTR_HTTP_REQUEST_METHOD] = method;
    return method;
  }
  a[ATTR_HTTP_REQUEST_METHOD] = '_OTHER';
  if (method !== '') a[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = method;
  return 'HTTP';
}

/** The path of a request-target (origin-form or absolute-form); the query is left out. */
function pathOf(target: string): string {
  if (target.startsWith('/')) {
    const q = target.indexOf('?');
    return q === -1 ? target : target.slice(0, q);
  }
  try {
    return new URL(target).pathname;
  } catch {
    return target;
  }
}

export function requestStartAttributes(e: HttpRequestStartEvent, a: Attributes): Attributes {
  a[ATTR_URL_PATH] = pathOf(e.target);
  a[A.route] = e.routeName;
  a[A.upstream] = e.upstream;
  a[A.connectionId] = e.conn.id;
  if (e.host !== null) hostPort(e.host, a);
  return a;
}

/** The end of an exchange; returns whether it failed (always exported). */
export function requestEndAttributes(e: HttpRequestEvent, a: Attributes): { failed: boolean; error: boolean } {
  if (e.status > 0) a[ATTR_HTTP_RESPONSE_STATUS_CODE] = e.status;
  a[A.requestReason] = e.reason;
  a['sightline.request.reused_upstream'] = e.reusedUpstream;
  if (e.upgraded) a['sightline.request.upgraded'] = true;
  if (e.error !== null) a['sightline.request.error'] = e.error;
  const completed = e.reason === CloseReason.HttpCompleted;
  const error = e.status >= 500 || e.status === 0;
  if (!completed) a[ATTR_ERROR_TYPE] = e.reason;
  else if (error) a[ATTR_ERROR_TYPE] = e.status === 0 ? '_OTHER' : String(e.status);
  return { failed: error || !completed, error };
}

/** Lifecycle detail → span event attributes (primitives only). */
export function detailAttributes(detail: Readonly<Record<string, unknown>> | undefined): Attributes {
  const a: Attributes = {};
  if (detail === undefined) return a;
  for (const [k, v] of Object.entries(detail)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') a[k] = v;
  }
  return a;
}
