/**
 * Grafana dashboards for Sightline, built from monitoring/config.mjs as plain JSON models
 * (schemaVersion 39). Every query goes through the `datasource` template variable
 * ({ type: 'prometheus', uid: '${datasource}' }), so file provisioning works with any datasource
 * uid. `dashboards(config)` gives the models, `renderDashboards(config)` the file texts, and
 * `panelExpressions(models)` every panel query for a live test to run.
 */
import { leMatcher } from './promql.mjs';
import { recordNames, selector } from './rules.mjs';

export const SCHEMA_VERSION = 39;
const DS = Object.freeze({ type: 'prometheus', uid: '${datasource}' });
const ds = () => ({ ...DS });
const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

// ---- panel builders ---------------------------------------------------------------------------

/** One query. `legend`: legendFormat; `instant`: an instant query (tables, bar gauges, stats). */
function q(expr, { legend, instant = false, format, exemplar = false } = {}) {
  return {
    datasource: ds(),
    expr,
    ...(legend === undefined ? {} : { legendFormat: legend }),
    range: !instant,
    instant,
    ...(format === undefined ? {} : { format }),
    ...(exemplar ? { exemplar: true } : {}),
    editorMode: 'code',
  };
}

function withRefIds(targets) {
  return targets.map((t, i) => ({ ...t, refId: REF_IDS[i] }));
}

function base(type, title, description, targets, size) {
  return {
    type,
    title,
    ...(description ? { description } : {}),
    ...(targets === null ? {} : { datasource: ds(), targets: withRefIds(targets) }),
    gridPos: { w: size.w, h: size.h },
  };
}

function timeseries(title, description, targets, { unit = 'short', w = 12, h = 8, stack = false, links, min, exemplars = true } = {}) {
  const p = base('timeseries', title, description, exemplars ? targets.map((t) => ({ ...t, exemplar: true })) : targets, { w, h });
  p.fieldConfig = {
    defaults: {
      unit,
      ...(min === undefined ? {} : { min }),
      custom: {
        drawStyle: 'line',
        lineWidth: 1,
        fillOpacity: stack ? 30 : 10,
        showPoints: 'never',
        spanNulls: false,
        stacking: { mode: stack ? 'normal' : 'none', group: 'A' },
      },
      ...(links ? { links } : {}),
    },
    overrides: [],
  };
  p.options = { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } };
  return p;
}

function stat(title, description, target, { unit = 'short', w = 4, h = 4, decimals, thresholds } = {}) {
  const p = base('stat', title, description, [target], { w, h });
  p.fieldConfig = {
    defaults: {
      unit,
      ...(decimals === undefined ? {} : { decimals }),
      thresholds: thresholds ?? { mode: 'absolute', steps: [{ color: 'green', value: null }] },
    },
    overrides: [],
  };
  p.options = { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'auto' };
  return p;
}

function table(title, description, targets, { w = 12, h = 8, unit = 'short', hide = ['Time'] } = {}) {
  const p = base('table', title, description, targets, { w, h });
  p.fieldConfig = { defaults: { unit }, overrides: [] };
  p.options = { showHeader: true, cellHeight: 'sm' };
  p.transformations = [
    { id: 'merge', options: {} },
    { id: 'organize', options: { excludeByName: Object.fromEntries(hide.map((k) => [k, true])), renameByName: { Value: 'value' } } },
  ];
  return p;
}

function heatmap(title, description, target, { w = 12, h = 9, repeat } = {}) {
  const p = base('heatmap', title, description, [{ ...target, format: 'heatmap', legendFormat: '{{le}}', exemplar: true }], { w, h });
  if (repeat) Object.assign(p, { repeat, repeatDirection: 'h', maxPerRow: 2 });
  p.fieldConfig = { defaults: { custom: { scaleDistribution: { type: 'linear' }, hideFrom: { legend: false, tooltip: false, viz: false } } }, overrides: [] };
  p.options = {
    calculate: false,
    cellGap: 1,
    color: { mode: 'scheme', scheme: 'Oranges', fill: 'dark-orange', scale: 'exponential', exponent: 0.5, steps: 64, reverse: false },
    exemplars: { color: 'rgba(255,0,255,0.7)' },
    filterValues: { le: 1e-9 },
    legend: { show: true },
    rowsFrame: { layout: 'le' },
    showValue: 'never',
    tooltip: { mode: 'single', yHistogram: true, showColorScale: false },
    yAxis: { axisPlacement: 'left', unit: 's', reverse: false },
  };
  return p;
}

function bargauge(title, description, targets, { w = 12, h = 10, unit = 'short' } = {}) {
  const p = base('bargauge', title, description, targets, { w, h });
  p.fieldConfig = { defaults: { unit, min: 0, thresholds: { mode: 'absolute', steps: [{ color: 'blue', value: null }] } }, overrides: [] };
  p.options = { orientation: 'horizontal', displayMode: 'basic', showUnfilled: true, reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } };
  return p;
}

function text(title, content, { w = 12, h = 10 } = {}) {
  const p = base('text', title, '', null, { w, h });
  p.options = { mode: 'markdown', content };
  return p;
}

function row(title) {
  return { type: 'row', title, collapsed: false, panels: [], gridPos: { w: 24, h: 1 } };
}

/** Give panels ids and grid positions, left to right, wrapping at 24 columns. */
function layout(panels) {
  let x = 0;
  let y = 0;
  let rowH = 0;
  let id = 1;
  const repeatWidth = (p) => (p.repeat ? 24 : p.gridPos.w);
  return panels.map((p) => {
    const w = p.gridPos.w;
    if (p.type === 'row' || x + repeatWidth(p) > 24) {
      y += rowH;
      x = 0;
      rowH = 0;
    }
    const placed = { id: id++, ...p, gridPos: { h: p.gridPos.h, w, x, y } };
    x += repeatWidth(p);
    rowH = Math.max(rowH, p.gridPos.h);
    if (p.type === 'row') {
      y += 1;
      rowH = 0;
      x = 0;
    }
    return placed;
  });
}

// ---- dashboard frame --------------------------------------------------------------------------

const datasourceVariable = () => ({
  name: 'datasource',
  label: 'Data source',
  type: 'datasource',
  query: 'prometheus',
  // No `current`: Grafana picks the first match on load (@grafana/schema requires text and value
  // in a `current`, and an empty one fails the dashboard schema test).
  hide: 0,
  includeAll: false,
  multi: false,
  options: [],
  refresh: 1,
  regex: '',
  skipUrlSync: false,
});

function routeVariable(c, { multi }) {
  const query = `label_values(${selector(c, c.metrics.closed)}, route)`;
  return {
    name: 'route',
    label: 'Route',
    type: 'query',
    datasource: ds(),
    // No `definition` (a display copy of the query some Grafana versions write): it is not in
    // @grafana/schema's VariableModel, and the query object carries the same text.
    query: { qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    hide: 0,
    includeAll: multi,
    multi,
    ...(multi ? { allValue: '.*' } : {}),
    options: [],
    refresh: 2,
    regex: '',
    skipUrlSync: false,
    sort: 1,
  };
}

function dashboard(c, { slug, title, description, variables, panels }) {
  const d = c.dashboards;
  return {
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    description,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [{ title: 'Sightline', type: 'dashboards', tags: [...d.tags], asDropdown: true, includeVars: true, keepTime: true, icon: 'external link', targetBlank: false, tooltip: '', url: '' }],
    panels: layout(panels),
    refresh: d.refresh,
    schemaVersion: SCHEMA_VERSION,
    tags: [...d.tags],
    templating: { list: [datasourceVariable(), ...variables] },
    time: { ...d.time },
    timepicker: {},
    timezone: 'browser',
    title,
    uid: `${d.uidPrefix}-${slug}`,
    version: 1,
    weekStart: '',
  };
}

// ---- shared queries ---------------------------------------------------------------------------

const RATE = '$__rate_interval';

function queries(c, routeMatcher) {
  const m = c.metrics;
  const s = (metric, ...matchers) => selector(c, metric, ...(routeMatcher ? [routeMatcher] : []), ...matchers);
  const rate = (metric, by, ...matchers) => `sum by (${by}) (rate(${s(metric, ...matchers)}[${RATE}]))`;
  const quantile = (metric, qv, by = '') => `histogram_quantile(${qv}, sum by (${by ? `${by}, ` : ''}le) (rate(${s(`${metric}_bucket`)}[${RATE}])))`;
  return { s, rate, quantile, m };
}

/** Closes per fingerprint band over the dashboard range, by initiator (one query per band). */
function bandTargets(c, routeMatcher) {
  const m = c.metrics;
  return c.bands.map((b) => {
    const bucket = (edge) =>
      `sum by (initiator) (increase(${selector(c, `${m.duration}_bucket`, ...(routeMatcher ? [routeMatcher] : []), leMatcher(edge))}[$__range]))`;
    return q(`${bucket(b.hi)}\n-\n${bucket(b.lo)}`, { legend: `${b.name} ({{initiator}})`, instant: true });
  });
}

function bandsText(c) {
  const lines = [
    'Connection lifetimes (and idle gaps) that name a timer on the path. Each band is one bucket of',
    '`sightline_connection_duration_seconds` / `sightline_connection_idle_at_close_seconds`, between the',
    'two edges that bracket the value.',
    '',
    '| band | bucket edges | usual culprits |',
    '|---|---|---|',
    ...c.bands.map((b) => `| ${b.seconds} s | ${b.lo}–${b.hi} s | ${b.culprits} |`),
    '',
    `Closes with \`initiator="${c.proxyInitiator}"\` are Sightline's own timers (reason: ${c.proxyTimeoutReasons.map((r) => `\`${r}\``).join(', ')});`,
    'a band filled by `client` or `backend` closes points outside Sightline. Idle at close ≈ lifetime: an idle',
    'timer; closes at a fixed age whatever the idle gap: an age cap. See docs/runbook.md.',
  ];
  return lines.join('\n');
}

const abnormalShare = (c, s) =>
  `sum(rate(${s(c.metrics.closed, `reason!~"${c.normalReasons.join('|')}"`)}[${RATE}]))\n/\nsum(rate(${s(c.metrics.closed)}[${RATE}]))`;

// ---- the three dashboards ---------------------------------------------------------------------

function overview(c) {
  const { s, rate, quantile, m } = queries(c, null);
  const detailLink = [
    {
      title: 'Route detail: ${__field.labels.route}',
      url: `/d/${c.dashboards.uidPrefix}-route-detail/?var-datasource=\${datasource}&var-route=\${__field.labels.route}&\${__url_time_range}`,
    },
  ];
  return dashboard(c, {
    slug: 'overview',
    title: 'Sightline / Overview',
    description: 'Connections, closes and bytes across every route of every Sightline instance.',
    variables: [],
    panels: [
      row('Now'),
      stat('Active connections', 'Open connections, all routes.', q(`sum(${s(m.active)})`, { instant: true })),
      stat('Accepted / s', 'Connections accepted by the listeners.', q(`sum(rate(${s(m.accepted)}[${RATE}]))`), { unit: 'cps', decimals: 2 }),
      stat('Closed / s', 'Connections ended, every reason.', q(`sum(rate(${s(m.closed)}[${RATE}]))`), { unit: 'cps', decimals: 2 }),
      stat('Rejected / s', 'Refused by an IP list or a limit.', q(`sum(rate(${s(m.rejected)}[${RATE}]))`), { unit: 'cps', decimals: 2 }),
      stat('Abnormal closes', `Share of closes whose reason is not one of ${c.normalReasons.join(', ')}.`, q(abnormalShare(c, s)), {
        unit: 'percentunit',
        thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'orange', value: 0.2 }, { color: 'red', value: 0.5 }] },
      }),
      stat('Standing disconnect patterns', 'Patterns the in-process detector currently reports (see the forensics dashboard).', q(`count(${s(m.patternPeriod)}) or vector(0)`, { instant: true }), {
        thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'orange', value: 1 }] },
      }),
      row('Connections'),
      timeseries('Active connections by route', 'Open connections per route (unrouted: "none"). Click a series for the route detail.', [q(`sum by (route) (${s(m.active)})`, { legend: '{{route}}' })], {
        links: detailLink,
        exemplars: false,
      }),
      timeseries('Oldest open connection by route', 'Age of the oldest open connection of each route.', [q(`max by (route) (${s(m.oldestAge)})`, { legend: '{{route}}' })], { unit: 's', exemplars: false, links: detailLink }),
      timeseries('Accepted by port', 'Connections accepted per listener port, before any check.', [q(rate(m.accepted, 'port'), { legend: ':{{port}}' })], { unit: 'cps', exemplars: false }),
      timeseries('Rejected by route and reason', 'Refused by an IP list or a limit.', [q(rate(m.rejected, 'route, reason'), { legend: '{{route}} {{reason}}' })], { unit: 'cps', exemplars: false }),
      row('Closes'),
      timeseries('Closes by reason', 'Why connections ended (docs/close-reasons.md).', [q(rate(m.closed, 'reason'), { legend: '{{reason}}' })], { unit: 'cps', stack: true, exemplars: false }),
      timeseries('Closes by initiator', `Who ended them: client, backend, or ${c.proxyInitiator} (Sightline's own decision).`, [q(rate(m.closed, 'initiator'), { legend: '{{initiator}}' })], {
        unit: 'cps',
        stack: true,
        exemplars: false,
      }),
      timeseries('Closes by route', 'Connections ended per route.', [q(rate(m.closed, 'route'), { legend: '{{route}}' })], { unit: 'cps', exemplars: false, links: detailLink }),
      timeseries('Lifetime p50 / p99 (all routes)', 'Connection lifetime quantiles; exemplars link to the trace of a connection.', [
        q(quantile(m.duration, 0.5), { legend: 'p50' }),
        q(quantile(m.duration, 0.99), { legend: 'p99' }),
      ], { unit: 's' }),
      row('Bytes and backends'),
      timeseries('Bytes by route', 'in = from clients, out = to clients.', [q(rate(m.bytes, 'route, direction'), { legend: '{{route}} {{direction}}' })], { unit: 'Bps', exemplars: false }),
      timeseries('Backend connect p95 by route', 'Time to connect to a backend (TCP, or TCP+TLS when re-encrypting).', [q(quantile(m.backendConnectDuration, 0.95, 'route'), { legend: '{{route}}' })], {
        unit: 's',
        exemplars: false,
      }),
      timeseries('Backend connect failures', 'Refused, unreachable, timed out, untrusted TLS.', [q(rate(m.backendConnectFailures, 'route, reason'), { legend: '{{route}} {{reason}}' })], {
        unit: 'cps',
        exemplars: false,
      }),
      timeseries('HTTP exchanges by status class', 'HTTP routes only.', [q(rate(m.httpRequests, 'status_class'), { legend: '{{status_class}}' })], { unit: 'reqps', stack: true, exemplars: false }),
      timeseries('TLS and ClientHello failures', 'Handshakes that failed on terminating routes; first bytes that were no usable ClientHello on SNI ports.', [
        q(rate(m.tlsHandshakeFailures, 'reason'), { legend: 'handshake {{reason}}' }),
        q(rate(m.clientHelloFailures, 'reason'), { legend: 'ClientHello {{reason}}' }),
      ], { unit: 'cps', exemplars: false }),
      timeseries('Limit hits', 'Connection caps, rate limit, buffered bytes.', [q(rate(m.limitRejections, 'route, limit'), { legend: '{{route}} {{limit}}' })], { unit: 'cps', exemplars: false }),
      row('Sightline'),
      table('Running versions', 'sightline_build_info per instance.', [q(`sum by (instance, version, node) (${s(m.buildInfo)})`, { instant: true, format: 'table' })], { hide: ['Time', 'Value'] }),
      timeseries('Config reloads and telemetry errors', 'Route table swaps; errors caught in telemetry subscribers (should stay 0).', [
        q(`sum(increase(${s(m.configReloads)}[${RATE}]))`, { legend: 'reloads' }),
        q(`sum by (subscriber) (increase(${s(m.telemetryErrors)}[${RATE}]))`, { legend: 'telemetry errors {{subscriber}}' }),
      ], { exemplars: false }),
      timeseries('HTTP upstream pool sockets', 'Pool sockets by state (open includes idle).', [q(`sum by (state) (${s(m.upstreamSockets)})`, { legend: '{{state}}' })], { exemplars: false }),
    ],
  });
}

function forensics(c) {
  const routeMatcher = 'route=~"$route"';
  const { s, rate, quantile, m } = queries(c, routeMatcher);
  const r = recordNames(c);
  return dashboard(c, {
    slug: 'disconnect-forensics',
    title: 'Sightline / Disconnect forensics',
    description: 'When and why long-lived connections die: lifetime and idle-at-close histograms against the disconnect fingerprints, close reasons, Sightline\'s own timers, detected patterns.',
    variables: [routeVariable(c, { multi: true })],
    panels: [
      row('Lifetimes against the fingerprints'),
      heatmap(
        'Lifetime at close: $route',
        'Closed connections per duration bucket. The edges bracket the fingerprints (28–32 s, 58–62 s, 118–122 s, ...): a bright row there is a timer. Exemplars link to the trace of a connection.',
        q(`sum by (le) (increase(${s(`${m.duration}_bucket`)}[${RATE}]))`),
        { repeat: 'route' },
      ),
      heatmap(
        'Idle at close: $route',
        'How long connections had been idle when they closed. A bright row at the same value as in the lifetime heatmap: an idle timer; lifetimes clustered with varied idle gaps: an age cap.',
        q(`sum by (le) (increase(${s(`${m.idleAtClose}_bucket`)}[${RATE}]))`),
        { repeat: 'route' },
      ),
      bargauge('Closes per fingerprint band (dashboard range)', 'Closes whose lifetime fell in each fingerprint band, by initiator: client/backend = outside Sightline, proxy = Sightline\'s own timers.', bandTargets(c, routeMatcher)),
      text('Fingerprint bands', bandsText(c)),
      timeseries(
        `Peer-ended share per band (recorded, ${c.window})`,
        `Share of a route's closes that fell in a fingerprint band and were ended by a peer (${r.bandPeerShare}); the ${c.alerts.thirtySecondDrops.band} band drives ${c.prefix}ThirtySecondDrops.`,
        [q(`${r.bandPeerShare}{${routeMatcher}} > 0`, { legend: '{{route}} {{band}}' })],
        { unit: 'percentunit', min: 0 },
      ),
      timeseries('Lifetime quantiles', 'p50 / p90 / p99 of connection lifetime; exemplars link to traces.', [
        q(quantile(m.duration, 0.5), { legend: 'p50' }),
        q(quantile(m.duration, 0.9), { legend: 'p90' }),
        q(quantile(m.duration, 0.99), { legend: 'p99' }),
      ], { unit: 's' }),
      row('Why they closed'),
      timeseries('Closes by reason', 'docs/close-reasons.md says what each means.', [q(rate(m.closed, 'reason'), { legend: '{{reason}}' })], { unit: 'cps', stack: true }),
      timeseries('Closes by initiator', `client / backend: a peer sent FIN or RST; ${c.proxyInitiator}: Sightline decided.`, [q(rate(m.closed, 'initiator'), { legend: '{{initiator}}' })], {
        unit: 'cps',
        stack: true,
      }),
      timeseries('WebSocket ends by close code', 'close_frame="false" is the 1006 kind: TCP ended without a close frame.', [
        q(rate(m.websocketCloses, 'code, close_frame'), { legend: '{{code}} frame={{close_frame}}' }),
      ], { unit: 'cps' }),
      row('Sightline\'s own timers'),
      timeseries('Inactivity kills', 'Connections closed for inactivity, by keep-alive treatment; warnings given before the grace.', [
        q(rate(m.inactivityKills, 'route, treatment'), { legend: '{{route}} {{treatment}}' }),
        q(rate(m.inactivityWarnings, 'route'), { legend: '{{route}} warnings' }),
      ], { unit: 'cps', w: 8 }),
      timeseries('Zombie detections', 'Half-zombie and stuck connections closed by the lifecycle sweep.', [q(rate(m.zombies, 'route, kind'), { legend: '{{route}} {{kind}}' })], { unit: 'cps', w: 8 }),
      timeseries('Heartbeat timeouts', 'WebSocket clients closed for not answering the proxy ping.', [q(rate(m.heartbeatTimeouts, 'route'), { legend: '{{route}}' })], { unit: 'cps', w: 8 }),
      row('Patterns and ages'),
      table('Detected disconnect patterns', 'Standing patterns from the in-process detector: period = the clustered age (age-clustered) or the repeat interval (wall-clock-aligned). `sightline diagnose` and the status page name the culprits.', [
        q(`max by (route, kind) (${s(m.patternPeriod)})`, { instant: true, format: 'table' }),
      ], { unit: 's' }),
      timeseries('Pattern detections', 'New or changed patterns reported by the detector.', [q(`sum by (route, kind) (increase(${s(m.patterns)}[${RATE}]))`, { legend: '{{route}} {{kind}}' })]),
      timeseries('Oldest open connection', `Age of the oldest open connection per route; a flat ceiling is a cut at a fixed age (${c.prefix}ConnectionsNeverOld).`, [
        q(`max by (route) (${s(m.oldestAge)})`, { legend: '{{route}}' }),
      ], { unit: 's' }),
      timeseries('Open connections older than', 'Open connections past each age threshold, computed at scrape time.', [q(`sum by (seconds) (${s(m.olderThan)})`, { legend: '> {{seconds}} s' })]),
    ],
  });
}

function routeDetail(c) {
  const routeMatcher = 'route="$route"';
  const { s, rate, quantile, m } = queries(c, routeMatcher);
  const r = recordNames(c);
  return dashboard(c, {
    slug: 'route-detail',
    title: 'Sightline / Route detail',
    description: 'Everything Sightline knows about one route.',
    variables: [routeVariable(c, { multi: false })],
    panels: [
      row('$route now'),
      stat('Active connections', '', q(`sum(${s(m.active)})`, { instant: true })),
      stat('Oldest open connection', '', q(`max(${s(m.oldestAge)})`, { instant: true }), { unit: 's' }),
      stat('Closed / s', '', q(`sum(rate(${s(m.closed)}[${RATE}]))`), { unit: 'cps', decimals: 2 }),
      stat('Abnormal closes', `Share of closes whose reason is not one of ${c.normalReasons.join(', ')}.`, q(abnormalShare(c, s)), {
        unit: 'percentunit',
        thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'orange', value: 0.2 }, { color: 'red', value: 0.5 }] },
      }),
      stat('Bytes in / s', 'From clients.', q(`sum(rate(${s(m.bytes, 'direction="in"')}[${RATE}]))`), { unit: 'Bps' }),
      stat('Bytes out / s', 'To clients.', q(`sum(rate(${s(m.bytes, 'direction="out"')}[${RATE}]))`), { unit: 'Bps' }),
      row('Closes'),
      timeseries('Closes by reason', '', [q(rate(m.closed, 'reason'), { legend: '{{reason}}' })], { unit: 'cps', stack: true }),
      timeseries('Closes by initiator', '', [q(rate(m.closed, 'initiator'), { legend: '{{initiator}}' })], { unit: 'cps', stack: true }),
      heatmap('Lifetime at close', 'Duration buckets; the edges bracket the fingerprints.', q(`sum by (le) (increase(${s(`${m.duration}_bucket`)}[${RATE}]))`)),
      heatmap('Idle at close', 'Idle gap at close; equal to the lifetime: an idle timer.', q(`sum by (le) (increase(${s(`${m.idleAtClose}_bucket`)}[${RATE}]))`)),
      timeseries('Lifetime quantiles', 'Exemplars link to the trace of a connection.', [
        q(quantile(m.duration, 0.5, 'initiator'), { legend: 'p50 {{initiator}}' }),
        q(quantile(m.duration, 0.99, 'initiator'), { legend: 'p99 {{initiator}}' }),
      ], { unit: 's' }),
      timeseries(`Peer-ended share per band (recorded, ${c.window})`, 'Closes in a fingerprint band ended by a peer, over all closes.', [q(`${r.bandPeerShare}{${routeMatcher}} > 0`, { legend: '{{band}}' })], {
        unit: 'percentunit',
        min: 0,
      }),
      bargauge('Closes per fingerprint band (dashboard range)', 'By initiator.', bandTargets(c, routeMatcher), { w: 24, h: 8 }),
      row('Lifecycle'),
      timeseries('Oldest open connection', '', [q(`max(${s(m.oldestAge)})`, { legend: 'oldest' })], { unit: 's', w: 8 }),
      timeseries('Open connections older than', '', [q(`sum by (seconds) (${s(m.olderThan)})`, { legend: '> {{seconds}} s' })], { w: 8 }),
      timeseries('Inactivity, zombies, heartbeats', "Sightline's own timers.", [
        q(rate(m.inactivityKills, 'treatment'), { legend: 'inactivity {{treatment}}' }),
        q(rate(m.inactivityWarnings, 'route'), { legend: 'idle warnings' }),
        q(rate(m.zombies, 'kind'), { legend: '{{kind}}' }),
        q(rate(m.heartbeatTimeouts, 'route'), { legend: 'heartbeat timeouts' }),
      ], { unit: 'cps', w: 8 }),
      table('Detected disconnect patterns', '', [q(`max by (kind) (${s(m.patternPeriod)})`, { instant: true, format: 'table' })], { unit: 's', w: 8 }),
      timeseries('Rejections and limit hits', '', [
        q(rate(m.rejected, 'reason'), { legend: 'rejected {{reason}}' }),
        q(rate(m.limitRejections, 'limit'), { legend: 'limit {{limit}}' }),
      ], { unit: 'cps', w: 16 }),
      row('Backend and protocols'),
      timeseries('Backend connect time', '', [
        q(quantile(m.backendConnectDuration, 0.5), { legend: 'p50' }),
        q(quantile(m.backendConnectDuration, 0.95), { legend: 'p95' }),
      ], { unit: 's', w: 8 }),
      timeseries('Backend connect failures', '', [q(rate(m.backendConnectFailures, 'reason'), { legend: '{{reason}}' })], { unit: 'cps', w: 8 }),
      timeseries('TLS handshake failures', 'Terminating routes.', [q(rate(m.tlsHandshakeFailures, 'reason'), { legend: '{{reason}}' })], { unit: 'cps', w: 8 }),
      timeseries('HTTP exchanges', 'By status class and reason.', [q(rate(m.httpRequests, 'status_class, reason'), { legend: '{{status_class}} {{reason}}' })], { unit: 'reqps', w: 8 }),
      timeseries('HTTP duration p95', 'Request head to end of response; exemplars link to traces.', [q(quantile(m.httpDuration, 0.95, 'status_class'), { legend: '{{status_class}}' })], {
        unit: 's',
        w: 8,
      }),
      timeseries('WebSocket ends', 'By close-code class; close_frame="false" is 1006.', [q(rate(m.websocketCloses, 'code, close_frame'), { legend: '{{code}} frame={{close_frame}}' })], {
        unit: 'cps',
        w: 8,
      }),
    ],
  });
}

/** The dashboard models, by file name. */
export function dashboards(c) {
  return {
    'sightline-overview.json': overview(c),
    'sightline-disconnect-forensics.json': forensics(c),
    'sightline-route-detail.json': routeDetail(c),
  };
}

/** The dashboard files' texts, by file name (grafana/dashboards/<name>). */
export function renderDashboards(c) {
  return Object.fromEntries(Object.entries(dashboards(c)).map(([name, d]) => [name, `${JSON.stringify(d, null, 2)}\n`]));
}

function* allPanels(panels) {
  for (const p of panels ?? []) {
    yield p;
    if (p.type === 'row') yield* allPanels(p.panels);
  }
}

/**
 * Every panel query, as written (`$__rate_interval`, `$__range`, `$route` left for the caller to
 * substitute). `models`: what dashboards() returns (or renderDashboards(): texts are parsed), or
 * an array of dashboard models. Each entry: { dashboard (uid), panel (title), panelId, type,
 * refId, expr, instant, format }.
 */
export function panelExpressions(models) {
  const list = Array.isArray(models) ? models : Object.values(models);
  const out = [];
  for (const raw of list) {
    const d = typeof raw === 'string' ? JSON.parse(raw) : raw;
    for (const p of allPanels(d.panels)) {
      for (const t of p.targets ?? []) {
        if (typeof t.expr !== 'string') continue;
        out.push({ dashboard: d.uid, panel: p.title, panelId: p.id, type: p.type, refId: t.refId, expr: t.expr, instant: t.instant === true, format: t.format ?? 'time_series' });
      }
    }
  }
  return out;
}
