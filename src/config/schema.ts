/**
 * The one configuration schema (DESIGN §2.7): source of the TypeScript types, the runtime
 * validation (validate.ts) and the JSON Schema (json-schema.ts → schema/sightline.schema.json).
 * Option names and defaults follow compat-semantics §1; the route half lives in route-schema.ts.
 * All objects are strict (unknown keys are rejected); durations are whole milliseconds.
 * Every default carries its reason on the line above it.
 */
import { z } from 'zod';
import { isLoopbackHost } from './loopback.js';
import {
  count,
  durationMs,
  ipListSchema,
  pathPolicySchema,
  proxyProtocolOutSchema,
  routeSchema,
  routesSchema,
  targetSchema,
  websocketSchema,
} from './route-schema.js';

export { routesSchema };

const positiveMs = (): z.ZodNumber => durationMs().min(1, 'must be at least 1 ms');

export const lifecycleSchema = z.strictObject({
  // Reference grace for a plain-TCP pair with one side gone; measured from when that side went away.
  halfZombieGrace: durationMs().default(30_000),
  // TLS peers (WebSockets through passthrough) may pause far longer between bytes than plain TCP.
  halfZombieGraceTls: durationMs().default(300_000),
  // Reference limit for "client sent bytes, backend sent none" on plain TCP.
  stuckThreshold: durationMs().default(60_000),
  // Encrypted backends may legitimately think for longer before their first byte.
  stuckThresholdTls: durationMs().default(300_000),
  // `extended` connections get a logged warning and 10 min more before the idle kill (compat §3).
  extendedWarningGrace: durationMs().default(600_000),
  // Byte counters are sampled once a second: fine enough for idle times, free on the hot path.
  activitySampleInterval: positiveMs().default(1_000),
  // 60 s, nginx's send_timeout / proxy_send_timeout (the same "no write progress" rule); HAProxy
  // bounds writes with `timeout client` / `timeout server` (30-60 s in common configs); Envoy has
  // no write bound but its idle timeouts (1 h tcp_proxy). Long enough for a mobile peer's
  // zero window, short enough that a dead reader does not hold buffers for hours. 0 = off.
  writeStallTimeout: durationMs()
    .default(60_000)
    .describe(
      'A peer that reads none of the data waiting for it for this long is closed as write_stall (ms, 0 = off).',
    ),
});

export const drainSchema = z.strictObject({
  // 0: every connection is told at once (the reference's behaviour). A window spreads the closes
  // of long-lived connections over it (HAProxy's close-spread-time), so a rolling update does not
  // send every WebSocket client back in the same second. Capped by gracefulShutdownTimeout.
  spreadMs: durationMs().default(0).describe('Spread drain closes over this many ms (0 = all at once).'),
});

export const securityDefaultsSchema = z.strictObject({
  // Every limit finite by default (DESIGN §2.8); 10 000 is the reference's global cap. 0 = unlimited.
  maxConnections: count().default(10_000),
  ipAllowList: ipListSchema.optional().describe('Only these client addresses, CIDRs or * patterns may connect at all.'),
  ipBlockList: ipListSchema.optional().describe('These client addresses may not connect (wins over the allow list).'),
});

export const defaultsSchema = z.strictObject({
  target: targetSchema
    .optional()
    .describe('Where connections that no route matched go; without it they close as no_route.'),
  // Always present so `defaults.security.maxConnections` is set after parsing.
  security: securityDefaultsSchema.prefault({}),
});

export const adminSchema = z
  .strictObject({
    // Loopback: the admin API shows client addresses and must never be public by accident.
    host: z.string().min(1, 'must not be empty').default('127.0.0.1'),
    // 9464 is the conventional port of an OpenTelemetry Prometheus exporter; 0 = ephemeral.
    port: z
      .number()
      .int('a port must be a whole number')
      .min(0)
      .max(65535, 'a port must be between 0 and 65535')
      .default(9464),
    token: z
      .string()
      .min(1, 'must not be empty')
      .optional()
      .describe(
        "Bearer token required on every admin path except /healthz and /readyz (e.g. a Prometheus scrape job's authorization).",
      ),
    tokenFile: z
      .string()
      .min(1, 'must not be empty')
      .optional()
      .describe(
        'The token read from this file at load and reload (a mounted Kubernetes Secret), surrounding whitespace trimmed; instead of token.',
      ),
    // Observability-first: /metrics and /healthz are on unless switched off.
    enabled: z.boolean().default(true),
    // A non-loopback host without a token exposes client addresses: refused unless said out loud.
    allowUnauthenticatedRemote: z.boolean().default(false),
    // Without a token only loopback Host headers are answered (DNS rebinding); these are added.
    allowedHosts: z.array(z.string().min(1, 'must not be empty')).default([]),
  })
  .superRefine((a, ctx) => {
    if (a.token !== undefined && a.tokenFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tokenFile'], message: 'set token or tokenFile, not both' });
    }
    if (
      a.enabled &&
      a.token === undefined &&
      a.tokenFile === undefined &&
      !a.allowUnauthenticatedRemote &&
      !isLoopbackHost(a.host)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['host'],
        message: `${JSON.stringify(a.host)} is not a loopback address: set admin.token (or admin.tokenFile), or admin.allowUnauthenticatedRemote: true to expose the admin API (client addresses, SNI) without one`,
      });
    }
  });

export const httpUpstreamSchema = z.strictObject({
  // Per backend (host:port of a route): enough for a busy backend, finite so one slow backend
  // cannot take every file descriptor.
  maxSockets: count().min(1, 'must be at least 1').default(256),
  // Idle keep-alive sockets kept per backend; more are closed when released.
  maxIdleSockets: count().default(64),
  // 4 s, below Node's 5 s server keepAliveTimeout, so the proxy closes an idle upstream socket
  // before the backend does (undici's default for the same race).
  idleTimeout: positiveMs().default(4_000),
  // 0 = no age cap. A socket that carries an upgraded stream is never recycled by age.
  maxLifetime: durationMs().default(0),
  // A request waits this long for a free upstream socket when maxSockets are busy, then 503.
  queueTimeout: durationMs().default(10_000),
});

export const httpSchema = z.strictObject({
  // 16 KiB heads (Node's and HAProxy's default buffer); larger is refused with 431.
  maxHeaderSize: count().min(256, 'must be at least 256 bytes').default(16_384),
  // 100 header fields (Apache's LimitRequestFields); more is refused with 431.
  maxHeaderCount: count().min(1, 'must be at least 1').default(100),
  // 10 s for a whole request head once its first byte arrived (HAProxy's advice for
  // `timeout http-request`): the slowloris defence. Never applies to upgraded streams.
  requestHeadersTimeout: positiveMs().default(10_000),
  // 75 s idle between requests on a client connection: above the 60 s idle timeout of common
  // load balancers in front of a proxy, so they close first (nginx's default keepalive_timeout).
  keepAliveTimeout: positiveMs().default(75_000),
  // 60 s without a byte of a request body still due (nginx client_body_timeout): between reads,
  // not for the whole body, so a large upload on a slow link is not capped; then 408 (or a close
  // once the response started). A whole-body deadline would have to be sized per route.
  requestBodyTimeout: positiveMs()
    .default(60_000)
    .describe('Longest gap in ms between two reads of a request body still due, then 408 (http_body_timeout).'),
  // 60 s for the backend to start answering (nginx proxy_read_timeout); then 504. Only the wait
  // for a response head: bodies and upgraded streams are governed by the idle timeout.
  responseTimeout: positiveMs().default(60_000),
  // Backends see the client's address, scheme and host unless switched off.
  xForwarded: z.boolean().default(true),
  // Section optional; present after parsing.
  upstream: httpUpstreamSchema.prefault({}),
  // How request paths are normalised for routing and forwarding (route-schema.ts).
  path: pathPolicySchema.prefault({}),
});

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const telemetrySchema = z.strictObject({
  metrics: z
    .strictObject({
      // Metrics are the product; they cost nothing per chunk (DESIGN §2.3).
      enabled: z.boolean().default(true).describe('Serve sightline_* metrics on the admin listener.'),
    })
    // Section optional; present after parsing.
    .prefault({}),
  tracing: z
    .strictObject({
      // Tracing needs a collector (OTEL_* variables); off until one is configured.
      enabled: z.boolean().default(false),
      // 10 min segments make hour-long WebSockets visible while keeping span memory bounded.
      segmentLength: positiveMs().default(600_000),
    })
    // Section optional; present after parsing.
    .prefault({}),
  logging: z
    .strictObject({
      // Lifecycle warnings and access lines without debug noise.
      level: z.enum(logLevels).default('info'),
      // 'stdout' (default: containers collect it), 'stderr', or a file path.
      destination: z.string().min(1, 'must not be empty').default('stdout'),
    })
    // Section optional; present after parsing.
    .prefault({}),
  // 10 min, as the trace segments: a long-lived connection shows up in the logs and its span
  // while it lives, not only at its close (a week-long WebSocket). 0 = no progress records.
  progressInterval: durationMs()
    .default(600_000)
    .describe('Every this many ms, a progress log line and span event for each connection older than it (0 = off).'),
  patterns: z
    .strictObject({
      // The disconnect-pattern detector answers "why every 30 s?"; cheap, so on by default.
      enabled: z
        .boolean()
        .default(true)
        .describe('Run the disconnect-pattern detector (status page, /api/patterns, metrics).'),
    })
    // Section optional; present after parsing.
    .prefault({}),
});

export const optionsSchema = z.strictObject({
  routes: routesSchema.describe('The routes, tried by priority (higher first), then in order; the first match wins.'),
  // No default: absent means every interface (IPv4 and IPv6), as the reference listens.
  listenHost: z
    .string()
    .min(1, 'must not be empty')
    .optional()
    .describe('Address the route listeners bind to (e.g. 127.0.0.1); absent = all interfaces.'),
  // 4 h idle base, the reference default; 0 also means this default (compat §1).
  inactivityTimeout: durationMs().default(14_400_000).describe('Idle timeout base in ms (0 = the default).'),
  // The reference default: keep-alive connections get the multiplied timeout and the 7-day cap.
  keepAliveTreatment: z
    .enum(['standard', 'extended', 'immortal'])
    .default('extended')
    .describe("Idle handling of keep-alive connections: 'standard', 'extended' (multiplied timeout) or 'immortal'."),
  // 4 h × 6 = 24 h idle for `extended` keep-alive connections (reference default).
  keepAliveInactivityMultiplier: z
    .number()
    .positive('must be greater than 0')
    .default(6)
    .describe("Idle-timeout multiplier for 'extended' keep-alive connections."),
  // 24 h age cap for connections that are not extended keep-alive (reference default).
  maxConnectionLifetime: durationMs()
    .default(86_400_000)
    .describe("Age cap in ms for connections that are not 'extended' keep-alive."),
  // 7-day age cap for `extended` keep-alive connections (reference default).
  extendedKeepAliveLifetime: durationMs()
    .default(604_800_000)
    .describe("Age cap in ms for 'extended' keep-alive connections."),
  // 1 h socket-level idle timeout, ignored for keep-alive connections (reference default).
  socketTimeout: durationMs()
    .default(3_600_000)
    .describe('Socket-level idle timeout in ms; ignored for keep-alive connections.'),
  // 60 s for the first bytes (ClientHello) on SNI ports: the low end of the reference's range.
  initialDataTimeout: durationMs()
    .default(60_000)
    .describe('How long to wait in ms for the first bytes (ClientHello) on ports that route on SNI.'),
  // 30 s to connect to a backend, the reference default (and above typical SYN retry budgets).
  connectionTimeout: durationMs().default(30_000).describe('Backend connect timeout in ms.'),
  // TCP keep-alive on both sockets, the reference default; it makes every connection keep-alive.
  keepAlive: z.boolean().default(true).describe('TCP keep-alive on both sockets; makes every connection keep-alive.'),
  // First keep-alive probe after 10 s idle, the reference default.
  keepAliveInitialDelay: durationMs()
    .default(10_000)
    .describe('TCP keep-alive idle time in ms before the first probe.'),
  // Proxies should not add Nagle delay to interactive traffic.
  noDelay: z.boolean().default(true).describe('TCP_NODELAY on both sockets.'),
  // 10 MiB buffered from a client while its backend connects, then the connection is closed.
  maxPendingDataSize: count().default(10_485_760).describe('Bytes buffered from a client while its backend connects.'),
  // 100 concurrent connections per client IP (reference default); 0 = unlimited.
  maxConnectionsPerIP: count().default(100).describe('Concurrent connections per client IP (0 = unlimited).'),
  // 300 new connections per IP per sliding minute (reference default); 0 = unlimited.
  connectionRateLimitPerMinute: count()
    .default(300)
    .describe('New connections per client IP per sliding minute (0 = unlimited).'),
  // Idle sweeping stays on: idle connections are the leak it exists to stop.
  disableInactivityCheck: z.boolean().default(false).describe('Turn idle sweeping off entirely.'),
  // 30 s for connections to finish on stop(), the reference default (and Kubernetes' grace period).
  gracefulShutdownTimeout: durationMs()
    .default(30_000)
    .describe('How long stop() waits in ms for connections to finish.'),
  // PROXY headers are only trusted when asked for (and only from proxyIPs).
  acceptProxyProtocol: z.boolean().default(false).describe('Accept PROXY protocol v1/v2 headers from proxyIPs.'),
  // No address is trusted to send PROXY headers until listed.
  proxyIPs: ipListSchema.default([]).describe('Addresses trusted to send PROXY protocol headers.'),
  // Backends get the raw connection unless they are known to parse PROXY headers.
  sendProxyProtocol: proxyProtocolOutSchema
    .default(false)
    .describe('Send a PROXY protocol header to backends (true = v1).'),
  // Aggregated summaries by default; one line per connection is opt-in (reference default).
  enableDetailedLogging: z
    .boolean()
    .default(false)
    .describe('One log line per connection instead of aggregated summaries.'),
  // 10 s lifecycle sweep: the reference's zombie-sweep cadence; idle kills land within one interval.
  inactivityCheckInterval: positiveMs()
    .default(10_000)
    .describe('Period in ms of the sweep that drives idle, lifetime and zombie checks.'),
  // 16 KiB, the TLS record size limit: real ClientHellos fit; bounds the buffer held to route on SNI.
  maxClientHelloSize: count()
    .min(1, 'must be at least 1 byte')
    .default(16_384)
    .describe('Most bytes buffered while waiting for a complete ClientHello to route on SNI.'),
  // One process: the library is single-process; `sightline start` forks node:cluster workers
  // (each listening with reusePort) when this is above 1 or 'auto' (= available cores).
  workers: z
    .union([
      z.number().int('must be a whole number').min(1, 'must be at least 1').max(256, 'at most 256'),
      z.literal('auto'),
    ])
    .default(1)
    .describe("CLI only: worker processes (a number, or 'auto' = available cores)."),
  // Section optional; present after parsing.
  drain: drainSchema.prefault({}),
  // Section optional; present after parsing.
  lifecycle: lifecycleSchema.prefault({}),
  // Section optional; present after parsing.
  http: httpSchema.prefault({}),
  // Section optional; present after parsing.
  defaults: defaultsSchema.prefault({}),
  // No admin listener unless asked for (the library); the CLI asks for 127.0.0.1:9464 by default.
  admin: adminSchema.optional(),
  // Section optional; present after parsing.
  telemetry: telemetrySchema.prefault({}),
});

/** What users write (library options object, YAML or JSON file). */
export type SightlineOptions = z.input<typeof optionsSchema>;
/** After validation: every default filled in, every route named, deep-frozen. */
export type ResolvedOptions = z.output<typeof optionsSchema>;
/** One route as users write it. */
export type RouteConfig = z.input<typeof routeSchema>;
/** One route after validation; `name` is always set (`route-<index>` when none was given). */
export type ResolvedRoute = z.output<typeof routesSchema>[number];

/** Sections the data path reads whole. */
export type WebSocketOptions = z.output<typeof websocketSchema>;
export type HttpOptions = z.output<typeof httpSchema>;

/** Defaults for `action.websocket` when a terminated route does not set the section. */
export const websocketDefaults: Readonly<WebSocketOptions> = Object.freeze(websocketSchema.parse({}));
