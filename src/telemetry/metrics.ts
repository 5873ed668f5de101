/**
 * Prometheus metrics (prom-client) as a subscriber of the core's channels (DESIGN §3): the data
 * path never calls it. Counters and histograms move on events (accept, close, request end,
 * lifecycle); gauges and byte counters of open connections are computed at scrape time from the
 * live registry, so nothing happens per chunk. Label values come only from bounded sets (see
 * metric-catalogue.ts); a flood of random SNI names, Host headers or client addresses adds no
 * series. Histograms carry the connection's trace id as an exemplar (shown when scraped as
 * OpenMetrics). Subscriber errors are caught and counted, never thrown.
 */
import diagnostics from 'node:diagnostics_channel';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type RegistryContentType } from 'prom-client';
import {
  CHANNEL_NAMES,
  type AcceptEvent,
  type BackendConnectedEvent,
  type CloseEvent,
  type ConnectionView,
  type HttpRequestEvent,
  type LifecycleEvent,
  type ProxyEvent,
  ALL_FAULT_SITES,
  type InternalErrorEvent,
  type ResourceEvent,
} from '../core/channels.js';
import { isRejection } from '../core/close-reasons.js';
import { closeReasonInfo, type MetricFamily } from '../core/close-reason-table.js';
import { FINGERPRINT_BUCKETS_SECONDS } from './fingerprints.js';
import { errnoLabel, wsCodeClass } from './metric-labels.js';
import {
  CONNECT_BUCKETS_SECONDS,
  HTTP_BUCKETS_SECONDS,
  metricSpec as spec,
  type MetricName,
} from './metric-catalogue.js';
import { NO_ROUTE as NONE, registerScrapeTimeMetrics, type ClosedBytes } from './metrics-scrape-time.js';

/** What the metrics read at scrape time (implemented by the composition root). */
export interface MetricsSource {
  /** Open connections (the live registry: read only). */
  live(): Iterable<
    ConnectionView & { readonly bytesReceived: number; readonly bytesSent: number; readonly idleFor: number }
  >;
  now(): number;
  /** Names of the configured routes: their per-route gauges are exported (at 0) even when idle. */
  routes?(): readonly string[];
  /** Generation of the running configuration. */
  configGeneration?(): number;
  /** HTTP upstream pool sockets, when HTTP routes exist. */
  pools(): { readonly open: number; readonly idle: number } | null;
  /** Standing disconnect patterns. */
  patterns(): ReadonlyArray<{ readonly route: string; readonly kind: string; readonly periodMs: number }>;
}

export interface MetricsOptions {
  readonly proxyId: number;
  readonly source: MetricsSource;
  readonly version: string;
  /** Trace id of a connection's span, for exemplars (tracing on). */
  readonly traceIdOf?: (conn: ConnectionView) => string | null;
  /** Node process and event-loop metrics (process_*, nodejs_*). */
  readonly processMetrics?: boolean;
}

export interface Metrics {
  readonly registry: Registry<RegistryContentType>;
  /** The exposition: Prometheus text, or OpenMetrics with exemplars. */
  scrape(openMetrics: boolean): Promise<{ contentType: string; body: string }>;
  /** A disconnect pattern was detected (the detector lives beside, in telemetry/). */
  patternDetected(route: string, kind: string): void;
  readonly errors: number;
  close(): void;
}

/**
 * One exposition of `reg` in `type`. prom-client renames counters for OpenMetrics by cutting
 * `_total` off the metric itself; the names are put back so the next text scrape is right.
 */
async function render(reg: Registry<RegistryContentType>, type: RegistryContentType): Promise<string> {
  reg.setContentType(type);
  try {
    return await reg.metrics();
  } finally {
    if (type === Registry.OPENMETRICS_CONTENT_TYPE) {
      for (const m of reg.getMetricsAsArray()) {
        const metric = m as unknown as { type: string; name: string };
        if (metric.type === 'counter' && !metric.name.endsWith('_total')) metric.name = `${metric.name}_total`;
      }
    }
  }
}

let processReg: Registry<RegistryContentType> | null = null;

/**
 * Node process and event-loop metrics (process_*, nodejs_*), collected once per process however
 * many proxies it runs (each collector arms its own event-loop monitor).
 */
export function sharedProcessRegistry(): Registry<RegistryContentType> {
  if (processReg === null) {
    processReg = new Registry<RegistryContentType>();
    collectDefaultMetrics({ register: processReg });
    // Gauges named *_total fail `promtool check metrics`; the per-type gauges beside them stay.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      processReg.removeSingleMetric(name);
  }
  return processReg;
}

export function startMetrics(o: MetricsOptions): Metrics {
  // Built as OpenMetrics (prom-client only allows exemplars there); each scrape picks its format.
  const registry = new Registry<RegistryContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const registers = [registry];
  const counter = (name: MetricName): Counter => new Counter({ ...spec(name), registers });
  const histogram = (name: MetricName, buckets: readonly number[], exemplars: boolean): Histogram =>
    new Histogram({ ...spec(name), buckets: [...buckets], registers, enableExemplars: exemplars });

  const closedBytes: ClosedBytes = new Map();
  const src = o.source;

  new Gauge({ ...spec('sightline_build_info'), registers }).set({ version: o.version, node: process.versions.node }, 1);
  const reloads = counter('sightline_config_reloads_total');
  const reloadFailures = counter('sightline_config_reload_failures_total');
  // Zero series from the start, so rate() and alerts see "0 failures" rather than nothing.
  reloads.inc(0);
  reloadFailures.inc(0);
  new Gauge({
    ...spec('sightline_config_generation'),
    registers,
    collect() {
      this.set(src.configGeneration?.() ?? 1);
    },
  });
  const accepted = counter('sightline_connections_accepted_total');
  const rejected = counter('sightline_connections_rejected_total');
  const closed = counter('sightline_connections_closed_total');
  const duration = histogram('sightline_connection_duration_seconds', FINGERPRINT_BUCKETS_SECONDS, true);
  const idleAtClose = histogram('sightline_connection_idle_at_close_seconds', FINGERPRINT_BUCKETS_SECONDS, true);
  const inactivity = counter('sightline_inactivity_kills_total');
  const warnings = counter('sightline_inactivity_warnings_total');
  const zombies = counter('sightline_zombie_detections_total');
  const heartbeats = counter('sightline_heartbeat_timeouts_total');
  const limits = counter('sightline_limit_rejections_total');
  const connectDuration = histogram('sightline_backend_connect_duration_seconds', CONNECT_BUCKETS_SECONDS, false);
  const connectFailures = counter('sightline_backend_connect_failures_total');
  const helloFailures = counter('sightline_client_hello_failures_total');
  const tlsFailures = counter('sightline_tls_handshake_failures_total');
  const httpRequests = counter('sightline_http_requests_total');
  const httpDuration = histogram('sightline_http_request_duration_seconds', HTTP_BUCKETS_SECONDS, true);
  const wsCloses = counter('sightline_websocket_closes_total');
  const patterns = counter('sightline_disconnect_patterns_total');
  const telemetryErrors = counter('sightline_telemetry_errors_total');
  // ---- issue 11 ----
  const internalErrors = counter('sightline_internal_errors_total');
  const acceptErrors = counter('sightline_accept_errors_total');
  const exhausted = counter('sightline_resource_exhausted_total');
  for (const site of ALL_FAULT_SITES) internalErrors.inc({ site }, 0);
  for (const where of ['accept', 'connect']) exhausted.inc({ where }, 0);

  // ---- computed at scrape time (metrics-scrape-time.ts) -------------------------------------
  registerScrapeTimeMetrics(registers, src, closedBytes);
  const processRegistry = o.processMetrics === false ? null : sharedProcessRegistry();

  // ---- event subscribers --------------------------------------------------------------------
  let errors = 0;
  const mine = (conn: ConnectionView): boolean => conn.proxyId === o.proxyId;
  const guard =
    <T>(name: string, fn: (m: T) => void) =>
    (m: unknown): void => {
      try {
        fn(m as T);
      } catch {
        errors++;
        try {
          telemetryErrors.inc({ subscriber: name });
        } catch {
          /* counted above */
        }
      }
    };
  const exemplar = (conn: ConnectionView): Record<string, string> | undefined => {
    const id = o.traceIdOf?.(conn) ?? null;
    return id === null ? undefined : { trace_id: id };
  };

  const onAccept = guard<AcceptEvent>('accept', (e) => {
    if (mine(e.conn)) accepted.inc({ port: String(e.conn.listenPort) });
  });
  /** A reason's own counter beside closed_total: its `metric` in core/close-reason-table.ts. */
  const ownCounter: Readonly<Record<MetricFamily, (c: ConnectionView, route: string, reason: string) => void>> = {
    limit: (_c, route, reason) => limits.inc({ route, limit: reason }),
    inactivity: (c, route) => inactivity.inc({ route, treatment: c.keepAliveTreatment }),
    zombie: (_c, route, reason) => zombies.inc({ route, kind: reason }),
    heartbeat: (_c, route) => heartbeats.inc({ route }),
    connect: (_c, route, reason) => connectFailures.inc({ route, reason }),
    'client-hello': (c, _route, reason) => helloFailures.inc({ port: String(c.listenPort), reason }),
    'tls-handshake': (_c, route, reason) => tlsFailures.inc({ route, reason }),
  };
  const onClose = guard<CloseEvent>('close', (e) => {
    const c = e.conn;
    if (!mine(c)) return;
    const route = c.routeName ?? NONE;
    const reason = e.reason;
    closed.inc({ route, reason, initiator: e.initiator });
    const b = closedBytes.get(route);
    if (b === undefined) closedBytes.set(route, { in: e.bytesFromClient, out: e.bytesToClient });
    else {
      b.in += e.bytesFromClient;
      b.out += e.bytesToClient;
    }
    if (isRejection(reason)) rejected.inc({ route, reason });
    else {
      const ex = exemplar(c);
      duration.observe({ labels: { route, initiator: e.initiator }, value: e.durationMs / 1000, exemplarLabels: ex });
      idleAtClose.observe({
        labels: { route, initiator: e.initiator },
        value: e.idleAtCloseMs / 1000,
        exemplarLabels: ex,
      });
    }
    const metric = closeReasonInfo(reason)?.metric;
    if (metric != null) ownCounter[metric](c, route, reason);
    const ws = e.websocket;
    if (ws !== undefined) wsCloses.inc({ route, code: wsCodeClass(ws.closeCode), close_frame: String(ws.closeFrame) });
  });
  const onConnected = guard<BackendConnectedEvent>('backend-connected', (e) => {
    if (mine(e.conn)) connectDuration.observe({ route: e.conn.routeName ?? NONE }, e.connectMs / 1000);
  });
  const onRequest = guard<HttpRequestEvent>('http-request', (e) => {
    if (!mine(e.conn)) return;
    const route = e.routeName ?? NONE;
    httpRequests.inc({ route, status_class: e.statusClass, reason: e.reason });
    httpDuration.observe({
      labels: { route, status_class: e.statusClass },
      value: e.durationMs / 1000,
      exemplarLabels: exemplar(e.conn),
    });
    if (closeReasonInfo(e.reason)?.metric === 'connect') connectFailures.inc({ route, reason: e.reason });
  });
  const onLifecycle = guard<LifecycleEvent>('lifecycle', (e) => {
    if (mine(e.conn) && e.kind === 'idle-warning') warnings.inc({ route: e.conn.routeName ?? NONE });
  });
  const onProxy = guard<ProxyEvent>('proxy', (e) => {
    if (e.detail?.proxyId !== o.proxyId) return;
    if (e.kind === 'routes-updated') reloads.inc();
    else if (e.kind === 'reload-failed') reloadFailures.inc();
  });
  const onInternalError = guard<InternalErrorEvent>('internal-error', (e) => {
    if (e.proxyId === o.proxyId) internalErrors.inc({ site: e.site });
  });
  const onResource = guard<ResourceEvent>('resource', (e) => {
    if (e.proxyId !== o.proxyId) return;
    if (e.where === 'accept' && (e.kind === 'exhausted' || e.kind === 'accept-error'))
      acceptErrors.inc({ port: String(e.port ?? 0), code: errnoLabel(e.code) });
    if (e.kind === 'exhausted') exhausted.inc({ where: e.where });
  });
  const subs: Array<[string, (m: unknown) => void]> = [
    [CHANNEL_NAMES.accept, onAccept],
    [CHANNEL_NAMES.close, onClose],
    [CHANNEL_NAMES.backendConnected, onConnected],
    [CHANNEL_NAMES.httpRequest, onRequest],
    [CHANNEL_NAMES.lifecycle, onLifecycle],
    [CHANNEL_NAMES.proxy, onProxy],
    [CHANNEL_NAMES.internalError, onInternalError],
    [CHANNEL_NAMES.resource, onResource],
  ];
  for (const [ch, fn] of subs) diagnostics.subscribe(ch, fn);
  // Zero series for every subscriber, so rate() and dashboards see "0 errors" rather than nothing.
  for (const name of [
    'accept',
    'close',
    'backend-connected',
    'http-request',
    'lifecycle',
    'proxy',
    'internal-error',
    'resource',
  ])
    telemetryErrors.inc({ subscriber: name }, 0);

  // One scrape at a time: the registry's output format is switched per scrape.
  let queue: Promise<unknown> = Promise.resolve();
  let closedDown = false;
  return {
    registry,
    scrape(openMetrics) {
      const run = async (): Promise<{ contentType: string; body: string }> => {
        const type = openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE;
        let body = await render(registry, type);
        if (processRegistry !== null) {
          const more = await render(processRegistry, type);
          // OpenMetrics ends with one "# EOF": keep only the last.
          if (openMetrics) body = body.replace(/# EOF\n?$/, '');
          body += more;
        }
        return { contentType: type, body };
      };
      const p = queue.then(run, run);
      queue = p.catch(() => undefined);
      return p;
    },
    patternDetected(route, kind) {
      patterns.inc({ route, kind });
    },
    get errors() {
      return errors;
    },
    close() {
      if (closedDown) return;
      closedDown = true;
      for (const [ch, fn] of subs) diagnostics.unsubscribe(ch, fn);
      registry.clear();
    },
  };
}
