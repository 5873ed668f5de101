/**
 * Every metric Sightline exposes, in one place (DESIGN §3): name, type, help and labels. The
 * metrics subscriber builds its prom-client objects from this list, docs/metrics.md is checked
 * against it, and the dashboards and alert rules may only use names listed here.
 *
 * Label values come only from bounded sets: route names (configuration), listener ports
 * (configuration), close reasons, initiators, keep-alive treatments, status and close-code
 * classes. Never a client address, SNI, Host or path: clients control those.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
}

export const METRICS = [
  {
    name: 'sightline_build_info',
    type: 'gauge',
    help: 'Always 1; the labels say which Sightline and Node.js are running.',
    labels: ['version', 'node'],
  },
  {
    name: 'sightline_config_reloads_total',
    type: 'counter',
    help: 'Route table swaps (updateRoutes, or a configuration reload that was applied).',
    labels: [],
  },
  {
    name: 'sightline_config_reload_failures_total',
    type: 'counter',
    help: 'Configuration reloads refused (invalid file, unreadable certificate, port in use); the running configuration stayed.',
    labels: [],
  },
  {
    name: 'sightline_config_generation',
    type: 'gauge',
    help: 'Generation of the running configuration: 1 at start, +1 per applied reload.',
    labels: [],
  },
  {
    name: 'sightline_connections_accepted_total',
    type: 'counter',
    help: 'Connections accepted by a listener, before any check.',
    labels: ['port'],
  },
  {
    name: 'sightline_connections_rejected_total',
    type: 'counter',
    help: 'Connections refused by an IP list or a limit (at accept or once routed).',
    labels: ['route', 'reason'],
  },
  {
    name: 'sightline_connections_closed_total',
    type: 'counter',
    help: 'Connections ended, by route, close reason and initiator.',
    labels: ['route', 'reason', 'initiator'],
  },
  {
    name: 'sightline_connections_active',
    type: 'gauge',
    help: 'Open connections by route (unrouted: "none").',
    labels: ['route'],
  },
  {
    name: 'sightline_connection_oldest_age_seconds',
    type: 'gauge',
    help: 'Age of the oldest open connection on the route.',
    labels: ['route'],
  },
  {
    name: 'sightline_connections_older_than',
    type: 'gauge',
    help: 'Open connections older than `seconds`, computed at scrape time.',
    labels: ['route', 'seconds'],
  },
  {
    name: 'sightline_connection_duration_seconds',
    type: 'histogram',
    help: 'Lifetime of closed connections; bucket edges bracket the disconnect fingerprints (28/32, 58/62, 118/122 s, ...).',
    labels: ['route', 'initiator'],
  },
  {
    name: 'sightline_connection_idle_at_close_seconds',
    type: 'histogram',
    help: 'How long closed connections had been idle when they closed (an idle timer shows as a spike at its value).',
    labels: ['route', 'initiator'],
  },
  {
    name: 'sightline_inactivity_kills_total',
    type: 'counter',
    help: 'Connections closed for inactivity, by keep-alive treatment.',
    labels: ['route', 'treatment'],
  },
  {
    name: 'sightline_inactivity_warnings_total',
    type: 'counter',
    help: 'Idle warnings given to extended keep-alive connections before the grace.',
    labels: ['route'],
  },
  {
    name: 'sightline_zombie_detections_total',
    type: 'counter',
    help: 'Half-zombie and stuck connections closed by the lifecycle sweep.',
    labels: ['route', 'kind'],
  },
  {
    name: 'sightline_heartbeat_timeouts_total',
    type: 'counter',
    help: 'WebSocket clients closed for not answering the proxy ping.',
    labels: ['route'],
  },
  {
    name: 'sightline_limit_rejections_total',
    type: 'counter',
    help: 'Limit hits (connection caps, rate limit, buffered bytes), by limit.',
    labels: ['route', 'limit'],
  },
  {
    name: 'sightline_backend_connect_duration_seconds',
    type: 'histogram',
    help: 'Time to connect to a backend (TCP, or TCP+TLS when re-encrypting).',
    labels: ['route'],
  },
  {
    name: 'sightline_backend_connect_failures_total',
    type: 'counter',
    help: 'Backend connects that failed (name not resolved, refused, unreachable, timed out, untrusted TLS).',
    labels: ['route', 'reason'],
  },
  {
    name: 'sightline_client_hello_failures_total',
    type: 'counter',
    help: 'Connections whose first bytes were not a usable TLS ClientHello on an SNI port.',
    labels: ['port', 'reason'],
  },
  {
    name: 'sightline_tls_handshake_failures_total',
    type: 'counter',
    help: 'TLS handshakes that failed on terminating routes.',
    labels: ['route', 'reason'],
  },
  {
    name: 'sightline_bytes_total',
    type: 'counter',
    help: 'Bytes moved per route: in = from clients, out = to clients (open connections read at scrape).',
    labels: ['route', 'direction'],
  },
  {
    name: 'sightline_http_requests_total',
    type: 'counter',
    help: 'HTTP exchanges by route, status class and reason (http_completed or why it failed).',
    labels: ['route', 'status_class', 'reason'],
  },
  {
    name: 'sightline_http_request_duration_seconds',
    type: 'histogram',
    help: 'HTTP exchange duration (request head to end of response).',
    labels: ['route', 'status_class'],
  },
  {
    name: 'sightline_websocket_closes_total',
    type: 'counter',
    help: 'WebSocket ends by close-code class; close_frame="false" is the 1006 kind (TCP ended without a close frame).',
    labels: ['route', 'code', 'close_frame'],
  },
  {
    name: 'sightline_disconnect_patterns_total',
    type: 'counter',
    help: 'Disconnect patterns detected (age-clustered, wall-clock-aligned, or abnormal-reason: closes dominated by abnormal reasons).',
    labels: ['route', 'kind'],
  },
  {
    name: 'sightline_disconnect_pattern_period_seconds',
    type: 'gauge',
    help: 'Period of each standing disconnect pattern (absent when none; 0 for abnormal-reason, which has no period).',
    labels: ['route', 'kind'],
  },
  {
    name: 'sightline_upstream_sockets',
    type: 'gauge',
    help: 'HTTP upstream pool sockets by state (open includes idle).',
    labels: ['state'],
  },
  {
    name: 'sightline_telemetry_errors_total',
    type: 'counter',
    help: 'Errors caught in telemetry subscribers (never thrown into the data path).',
    labels: ['subscriber'],
  },
  // ---- issue 11 (fault isolation, resources) ----
  {
    name: 'sightline_internal_errors_total',
    type: 'counter',
    help: 'Exceptions caught in data-path code, by site; the connection they happened on closed with internal_error, the others went on.',
    labels: ['site'],
  },
  {
    name: 'sightline_accept_errors_total',
    type: 'counter',
    help: 'Errors accepting connections on a listener (EMFILE/ENFILE: out of descriptors; accepting backs off and resumes).',
    labels: ['port', 'code'],
  },
  {
    name: 'sightline_resource_exhausted_total',
    type: 'counter',
    help: 'Out of descriptors or local ports (EMFILE, ENFILE, EADDRNOTAVAIL, ...), at accept or on a backend connect.',
    labels: ['where'],
  },
] as const satisfies readonly MetricSpec[];

export type MetricName = (typeof METRICS)[number]['name'];

/** Histogram edges (seconds) for connection durations and idle gaps, bracketing the fingerprints. */
export const CONNECT_BUCKETS_SECONDS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
export const HTTP_BUCKETS_SECONDS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
];
/** `sightline_connections_older_than` thresholds (seconds). */
export const AGE_THRESHOLDS_SECONDS: readonly number[] = [30, 60, 120, 300, 600, 3600, 86400];

/** A catalogue entry as prom-client's constructor options (name, help, labelNames). */
export const metricSpec = (name: MetricName): { name: string; help: string; labelNames: string[] } => {
  const m = METRICS.find((x) => x.name === name)!;
  return { name: m.name, help: m.help, labelNames: [...m.labels] };
};
