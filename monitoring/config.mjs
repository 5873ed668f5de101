/**
 * The one place that says what Sightline's alerts and dashboards watch (the monitoring-mixin way):
 * metric names, selectors, thresholds, `for:` durations and windows. `monitoring/generate.mjs`
 * renders `prometheus/rules/sightline.rules.yml` and `grafana/dashboards/*.json` from it, and a
 * test (test/unit/monitoring) fails when the committed files differ from what it would write.
 *
 * Plain ESM, no build step. Two scales:
 *   config()                      production: 5m windows, `for:` 10m–15m (what is committed);
 *   config({ scale: 'test' })     compressed: 1m windows, `for: 30s`, short histories, small
 *                                 minimum counts, for a live end-to-end test that runs real
 *                                 Prometheus against a real proxy for a few minutes.
 * Anything else passed is deep-merged over the chosen scale, e.g.
 *   config({ scale: 'test', alerts: { connectionsNeverOld: { ageSeconds: 10 } } }).
 *
 * Metric names must be in src/telemetry/metric-catalogue.ts (a test checks every name used).
 * Sets of close reasons come from the close-reason table (no list of them is kept here).
 */

import { readFileSync } from 'node:fs';

/** Where the alerts' runbook_url points (anchors are the alert names, lower-cased). */
export const RUNBOOK_URL = 'https://github.com/sightline-proxy/sightline/blob/main/docs/runbook.md';

/** Every metric the rules and dashboards read, by role. */
const METRIC_NAMES = Object.freeze({
  buildInfo: 'sightline_build_info',
  configReloads: 'sightline_config_reloads_total',
  accepted: 'sightline_connections_accepted_total',
  rejected: 'sightline_connections_rejected_total',
  closed: 'sightline_connections_closed_total',
  active: 'sightline_connections_active',
  oldestAge: 'sightline_connection_oldest_age_seconds',
  olderThan: 'sightline_connections_older_than',
  /** Histogram base names (the rules add _bucket / _count / _sum). */
  duration: 'sightline_connection_duration_seconds',
  idleAtClose: 'sightline_connection_idle_at_close_seconds',
  inactivityKills: 'sightline_inactivity_kills_total',
  inactivityWarnings: 'sightline_inactivity_warnings_total',
  zombies: 'sightline_zombie_detections_total',
  heartbeatTimeouts: 'sightline_heartbeat_timeouts_total',
  limitRejections: 'sightline_limit_rejections_total',
  backendConnectDuration: 'sightline_backend_connect_duration_seconds',
  backendConnectFailures: 'sightline_backend_connect_failures_total',
  clientHelloFailures: 'sightline_client_hello_failures_total',
  tlsHandshakeFailures: 'sightline_tls_handshake_failures_total',
  bytes: 'sightline_bytes_total',
  httpRequests: 'sightline_http_requests_total',
  httpDuration: 'sightline_http_request_duration_seconds',
  websocketCloses: 'sightline_websocket_closes_total',
  patterns: 'sightline_disconnect_patterns_total',
  patternPeriod: 'sightline_disconnect_pattern_period_seconds',
  upstreamSockets: 'sightline_upstream_sockets',
  telemetryErrors: 'sightline_telemetry_errors_total',
});

/**
 * The disconnect fingerprints (reference/disconnect-fingerprints.md, src/telemetry/fingerprints.ts)
 * as histogram bands: `lo` and `hi` are the FINGERPRINT_BUCKETS_SECONDS edges that bracket the
 * value, so `bucket{le=hi} - bucket{le=lo}` counts the closes at that lifetime. A test checks the
 * values and edges against the TypeScript table. `culprits` is a short reminder for the dashboards.
 */
const BANDS = Object.freeze(
  [
    {
      name: '2.5s',
      seconds: 2.5,
      lo: 1.5,
      hi: 3.5,
      culprits: 'proxy read deadline after an upgrade (lingering/peek timeout)',
    },
    {
      name: '11.5s',
      seconds: 11.5,
      lo: 9.5,
      hi: 13.5,
      culprits: 'ingress controller reload with a short worker shutdown timeout',
    },
    { name: '15s', seconds: 15, lo: 14, hi: 16, culprits: 'Envoy route timeout left on upgraded connections' },
    {
      name: '30s',
      seconds: 30,
      lo: 28,
      hi: 32,
      culprits:
        'heartbeat / half-zombie grace where pings cannot flow; HAProxy timeout client 30s without timeout tunnel; Azure Application Gateway',
    },
    {
      name: '50s',
      seconds: 50,
      lo: 48,
      hi: 52,
      culprits: 'HAProxy sample timeout client/server 50s below a 55 s app heartbeat',
    },
    {
      name: '60s',
      seconds: 60,
      lo: 58,
      hi: 62,
      culprits:
        'nginx proxy_read_timeout; AWS ALB idle timeout; Node headersTimeout/requestTimeout on upgraded sockets; 60 s stuck threshold',
    },
    { name: '100s', seconds: 100, lo: 98, hi: 102, culprits: 'CDN edge idle cut (historical 100 s)' },
    {
      name: '120s',
      seconds: 120,
      lo: 118,
      hi: 122,
      culprits: 'CDN edge idle cut (120 s); upstream pool age cap killing multiplexed WebSockets at one instant',
    },
    { name: '180s', seconds: 180, lo: 178, hi: 182, culprits: 'Traefik idle timeout default' },
    {
      name: '240s',
      seconds: 240,
      lo: 238,
      hi: 242,
      culprits: 'ingress-nginx worker shutdown timeout after a reload; Azure Basic LB idle (no RST)',
    },
    {
      name: '300s',
      seconds: 300,
      lo: 298,
      hi: 302,
      culprits: 'Envoy stream idle timeout; 5-minute TLS half-zombie / stuck grace',
    },
    { name: '3600s', seconds: 3600, lo: 3590, hi: 3610, culprits: 'Envoy/Istio TCP idle timeout; 1 h socket timeout' },
  ].map((b) => Object.freeze(b)),
);

/**
 * The close reasons' sets, from the close-reason table (src/core/close-reason-table.ts) through
 * monitoring/close-reasons.json, which scripts/gen-close-reasons.mjs writes and a test keeps equal
 * to the table: `normal`, the normal ends of a connection; `ownTimers`, Sightline's own deliberate
 * timers (initiator="proxy"), closes it meant to make.
 */
const REASONS = JSON.parse(readFileSync(new URL('./close-reasons.json', import.meta.url), 'utf8'));
const NORMAL_REASONS = Object.freeze([...REASONS.normal]);
const PROXY_TIMEOUT_REASONS = Object.freeze([...REASONS.ownTimers]);

function production() {
  return {
    scale: 'production',
    /** Alert-name prefix (CamelCase) and the recording/alert group names. */
    prefix: 'Sightline',
    groupName: 'sightline',
    runbookUrl: RUNBOOK_URL,
    /**
     * Label matchers added to every selector in the rules and dashboards, e.g. 'job="sightline"'.
     * Empty: any series with these metric names.
     */
    selector: '',
    /** Rule-group evaluation interval; null: Prometheus' global evaluation_interval. */
    ruleInterval: null,
    metrics: { ...METRIC_NAMES },
    /** Alerts aggregate by route across instances (and by the alert's own extra labels). */
    proxyInitiator: 'proxy',
    normalReasons: [...NORMAL_REASONS],
    proxyTimeoutReasons: [...PROXY_TIMEOUT_REASONS],
    bands: BANDS.map((b) => ({ ...b })),
    /** The window of the recording rules (route:…:increase5m) and of most alerts. */
    window: '5m',
    alerts: {
      thirtySecondDrops: {
        severity: 'warning',
        for: '10m',
        /** The band (by name) whose peer-initiated share is watched. */
        band: '30s',
        /** Share of the route's closes in the band, ended by a peer (initiator != proxy). */
        ratio: 0.5,
        /** ...and at least this many such closes in the window. */
        minCount: 10,
      },
      fixedAgeDisconnects: {
        severity: 'warning',
        for: '15m',
        /** Suppressed while Sightline's own timers end at least this share of the route's closes. */
        proxyTimeoutShare: 0.5,
      },
      alignedCloseBursts: { severity: 'warning', for: '15m' },
      abnormalCloseReasonDominant: { severity: 'warning', for: '10m', ratio: 0.5, minCount: 20 },
      /**
       * The detector's abnormal-reason finding (src/telemetry/abnormal.ts: ≥ 10 abnormal closes that
       * are ≥ half of the route's closes over 10 min, drains, idle/age caps and refusals not counted;
       * not raised when a periodic pattern already names that reason). Its period gauge series
       * (value 0: no period) exists while the finding stands.
       */
      abnormalCloses: { severity: 'warning', for: '10m' },
      zombieConnections: { severity: 'warning', for: '10m', minCount: 3 },
      inactivityKillSurge: {
        severity: 'warning',
        for: '10m',
        /** Current window count above factor × the average window count over `baseline`... */
        factor: 3,
        /** ...measured over this range, ending one window ago (so it does not contain the surge). */
        baseline: '1h',
        /** ...and at least this many kills in the window. */
        minCount: 20,
      },
      heartbeatTimeouts: { severity: 'warning', for: '10m', ratio: 0.1, minCount: 10 },
      backendConnectFailures: { severity: 'critical', for: '10m', ratio: 0.1, minCount: 5 },
      connectionsNeverOld: {
        severity: 'warning',
        for: '15m',
        /** N: no connection got older than this... */
        ageSeconds: 300,
        /** ...during this window (many times N: the gauge is sampled, and restarts reset ages)... */
        window: '30m',
        /** ...while at least this many connections closed on the route in the window... */
        minCloses: 10,
        /** ...although some did get older than N during this range before the window. */
        history: '1d',
        /** Suppressed while Sightline's own timers (e.g. a lifetime cap) end this share of closes. */
        proxyTimeoutShare: 0.5,
      },
    },
    dashboards: {
      uidPrefix: 'sightline',
      tags: ['sightline'],
      refresh: '30s',
      time: { from: 'now-6h', to: 'now' },
      /** Grafana datasource uid of the trace backend the exemplars link to (provisioning). */
      traceDatasourceUid: 'tempo',
    },
  };
}

/** The compressed variant: every window and `for:` short enough for a test of a few minutes. */
function testScale() {
  const c = production();
  c.scale = 'test';
  c.ruleInterval = '5s';
  c.window = '1m';
  const a = c.alerts;
  for (const k of Object.keys(a)) a[k].for = '30s';
  a.thirtySecondDrops.minCount = 3;
  a.abnormalCloseReasonDominant.minCount = 3;
  a.zombieConnections.minCount = 1;
  a.inactivityKillSurge.baseline = '5m';
  a.inactivityKillSurge.minCount = 3;
  a.heartbeatTimeouts.minCount = 2;
  a.backendConnectFailures.minCount = 2;
  Object.assign(a.connectionsNeverOld, { ageSeconds: 20, window: '2m', minCloses: 3, history: '10m' });
  c.dashboards.refresh = '5s';
  c.dashboards.time = { from: 'now-15m', to: 'now' };
  return c;
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function merge(base, over) {
  for (const [k, v] of Object.entries(over)) {
    if (isObject(v) && isObject(base[k])) merge(base[k], v);
    else base[k] = Array.isArray(v) ? [...v] : v;
  }
  return base;
}

/**
 * The monitoring configuration. `scale`: 'production' (default) or 'test'; any other key is
 * deep-merged over that scale (arrays replace).
 */
export function config(options = {}) {
  const { scale = 'production', ...overrides } = options;
  if (scale !== 'production' && scale !== 'test')
    throw new Error(`monitoring config: unknown scale ${JSON.stringify(scale)}`);
  const base = scale === 'test' ? testScale() : production();
  return merge(base, overrides);
}

export default config;
