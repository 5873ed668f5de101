/**
 * Prometheus recording and alerting rules for Sightline, built from monitoring/config.mjs.
 * `rulesObject(config)` gives the rule file as data, `renderRules(config)` as YAML text.
 *
 * Recording rules (level:metric:operation, the window in the name) keep the alerts readable;
 * ratios compare counts over the same window, minimums are counts in the window.
 */
import YAML from 'yaml';
import { formatDuration, leMatcher, parseDuration } from './promql.mjs';

/** `metric{config.selector, ...matchers}`. */
export function selector(c, metric, ...matchers) {
  const all = [c.selector, ...matchers].filter((m) => m !== undefined && m !== null && m !== '');
  return all.length === 0 ? metric : `${metric}{${all.join(', ')}}`;
}

/** The regex alternation of a list of label values. */
const alt = (values) => values.join('|');

/** Recording-rule names for a config (the window is part of each name). */
export function recordNames(c) {
  const w = c.window;
  return {
    closes: `route:sightline_connections_closed:increase${w}`,
    closesByReason: `route_reason:sightline_connections_closed:increase${w}`,
    proxyTimeoutCloses: `route:sightline_connections_closed_proxy_timeouts:increase${w}`,
    durationCount: `route:sightline_connection_duration_seconds_count:increase${w}`,
    bandPeerCloses: `route_band:sightline_connection_duration_peer_closes:increase${w}`,
    bandPeerShare: `route_band:sightline_connection_duration_peer_closes:ratio${w}`,
    inactivityKills: `route:sightline_inactivity_kills:increase${w}`,
    zombies: `route_kind:sightline_zombie_detections:increase${w}`,
    heartbeatTimeouts: `route:sightline_heartbeat_timeouts:increase${w}`,
    connectFailures: `route:sightline_backend_connect_failures:increase${w}`,
    connects: `route:sightline_backend_connect_duration_seconds_count:increase${w}`,
  };
}

/** Alert names, by config key. */
export const ALERT_NAMES = Object.freeze({
  thirtySecondDrops: 'ThirtySecondDrops',
  fixedAgeDisconnects: 'FixedAgeDisconnects',
  alignedCloseBursts: 'AlignedCloseBursts',
  abnormalCloseReasonDominant: 'AbnormalCloseReasonDominant',
  abnormalCloses: 'AbnormalCloses',
  zombieConnections: 'ZombieConnections',
  inactivityKillSurge: 'InactivityKillSurge',
  heartbeatTimeouts: 'HeartbeatTimeouts',
  backendConnectFailures: 'BackendConnectFailures',
  connectionsNeverOld: 'ConnectionsNeverOld',
});

/** The runbook anchor of an alert (GitHub lower-cases the heading). */
export const runbookAnchor = (alertName) => alertName.toLowerCase();

function recordingRules(c) {
  const m = c.metrics;
  const r = recordNames(c);
  const w = c.window;
  const proxy = `initiator="${c.proxyInitiator}"`;
  const notProxy = `initiator!="${c.proxyInitiator}"`;
  const rules = [
    { record: r.closes, expr: `sum by (route) (increase(${selector(c, m.closed)}[${w}]))` },
    { record: r.closesByReason, expr: `sum by (route, reason) (increase(${selector(c, m.closed)}[${w}]))` },
    {
      record: r.proxyTimeoutCloses,
      expr: `sum by (route) (increase(${selector(c, m.closed, proxy, `reason=~"${alt(c.proxyTimeoutReasons)}"`)}[${w}]))`,
    },
    { record: r.durationCount, expr: `sum by (route) (increase(${selector(c, `${m.duration}_count`)}[${w}]))` },
  ];
  for (const b of c.bands) {
    const bucket = (edge) =>
      `sum by (route) (increase(${selector(c, `${m.duration}_bucket`, notProxy, leMatcher(edge))}[${w}]))`;
    rules.push({ record: r.bandPeerCloses, expr: `${bucket(b.hi)}\n-\n${bucket(b.lo)}`, labels: { band: b.name } });
  }
  rules.push(
    { record: r.bandPeerShare, expr: `${r.bandPeerCloses}\n/ on (route) group_left ()\n${r.durationCount}` },
    { record: r.inactivityKills, expr: `sum by (route) (increase(${selector(c, m.inactivityKills)}[${w}]))` },
    { record: r.zombies, expr: `sum by (route, kind) (increase(${selector(c, m.zombies)}[${w}]))` },
    { record: r.heartbeatTimeouts, expr: `sum by (route) (increase(${selector(c, m.heartbeatTimeouts)}[${w}]))` },
    { record: r.connectFailures, expr: `sum by (route) (increase(${selector(c, m.backendConnectFailures)}[${w}]))` },
    {
      record: r.connects,
      expr: `sum by (route) (increase(${selector(c, `${m.backendConnectDuration}_count`)}[${w}]))`,
    },
  );
  return rules;
}

function alert(c, key, { expr, summary, description, extraLabels = {} }) {
  const a = c.alerts[key];
  const name = `${c.prefix}${ALERT_NAMES[key]}`;
  return {
    alert: name,
    expr,
    for: a.for,
    labels: { severity: a.severity, ...extraLabels },
    annotations: {
      summary,
      description,
      runbook_url: `${c.runbookUrl}#${runbookAnchor(name)}`,
    },
  };
}

function alertingRules(c) {
  const m = c.metrics;
  const r = recordNames(c);
  const w = c.window;
  const A = c.alerts;
  const out = [];

  // -- the 30 s band, peer-ended ----------------------------------------------------------------
  {
    const a = A.thirtySecondDrops;
    const band = c.bands.find((b) => b.name === a.band);
    if (band === undefined) throw new Error(`thirtySecondDrops.band ${a.band} is not in config.bands`);
    out.push(
      alert(c, 'thirtySecondDrops', {
        expr: `${r.bandPeerShare}{band="${band.name}"} > ${a.ratio}\nand on (route)\n${r.bandPeerCloses}{band="${band.name}"} >= ${a.minCount}`,
        summary: `Most connections of a route are cut by a peer after about ${band.seconds} s.`,
        description:
          `{{ $value | humanizePercentage }} of the connections closed on route {{ $labels.route }} in the last ${w} lived ${band.lo}–${band.hi} s ` +
          `and were ended by a peer (client or backend), not by Sightline's own timers: a ${band.seconds} s timer outside Sightline ` +
          `(${band.culprits}).`,
      }),
    );
  }

  // -- the detector's patterns ----------------------------------------------------------------
  const proxyDominated = (share) => `${r.proxyTimeoutCloses} > on (route) ${share} * ${r.closes}`;
  out.push(
    alert(c, 'fixedAgeDisconnects', {
      expr:
        `max by (route) (${selector(c, m.patternPeriod, 'kind="age-clustered"')})\n` +
        `unless on (route)\n(${proxyDominated(A.fixedAgeDisconnects.proxyTimeoutShare)})`,
      summary: 'Connections of a route keep dying at the same age.',
      description:
        `Sightline's disconnect-pattern detector sees connections on route {{ $labels.route }} die at the same age, ` +
        `{{ printf "%.1f" $value }} s, whenever they started: a per-connection timer (idle timeout, heartbeat, lifetime cap) ` +
        `on the path. The status page and sightline diagnose name the known culprits at that age.`,
    }),
    alert(c, 'alignedCloseBursts', {
      expr: `max by (route) (${selector(c, m.patternPeriod, 'kind="wall-clock-aligned"')})`,
      summary: 'Connections of a route are closed together at fixed wall-clock instants.',
      description:
        `Sightline's disconnect-pattern detector sees connections of different ages on route {{ $labels.route }} closed together ` +
        `every {{ printf "%.1f" $value }} s: a timer shared by many connections (pool eviction, reloads, a sweep).`,
    }),
  );

  out.push(
    alert(c, 'abnormalCloses', {
      // The value: the share of the route's closes in the window that did not end normally.
      expr:
        `(\n  1 - (sum by (route) (${r.closesByReason}{reason=~"${alt(c.normalReasons)}"}) or on (route) 0 * ${r.closes})\n  / on (route) ${r.closes}\n)\n` +
        `and on (route)\nmax by (route) (${selector(c, m.patternPeriod, 'kind="abnormal-reason"')})`,
      summary: 'Most connections of a route end abnormally (heartbeat misses, resets, stuck or refused backends).',
      description:
        `{{ $value | humanizePercentage }} of the connections closed on route {{ $labels.route }} in the last ${w} did not end normally, and ` +
        `Sightline's disconnect-pattern detector finds them dominated by abnormal reasons at no fixed age or instant. ` +
        `sightline diagnose names the reasons and the setting that decided.`,
    }),
  );

  // -- close reasons -------------------------------------------------------------------------
  {
    const a = A.abnormalCloseReasonDominant;
    out.push(
      alert(c, 'abnormalCloseReasonDominant', {
        expr:
          `(\n  ${r.closesByReason}{reason!~"${alt(c.normalReasons)}"}\n  / on (route) group_left ()\n  ${r.closes}\n) > ${a.ratio}\n` +
          `and on (route, reason)\n${r.closesByReason} >= ${a.minCount}`,
        summary: 'One abnormal close reason ends most connections of a route.',
        description:
          `{{ $labels.reason }} ended {{ $value | humanizePercentage }} of the connections closed on route {{ $labels.route }} ` +
          `in the last ${w} (docs/close-reasons.md says what the reason means).`,
      }),
    );
  }

  // -- lifecycle ------------------------------------------------------------------------------
  out.push(
    alert(c, 'zombieConnections', {
      expr: `${r.zombies} >= ${A.zombieConnections.minCount}`,
      summary: 'Sightline keeps closing half-dead (zombie or stuck) connections.',
      description:
        `Sightline's lifecycle sweep closed {{ $value | humanize }} {{ $labels.kind }} connections on route {{ $labels.route }} ` +
        `in the last ${w}: one side went away, or the backend never answered, and nobody noticed.`,
    }),
  );
  {
    const a = A.inactivityKillSurge;
    const ratio = parseDuration(a.baseline) / parseDuration(w);
    if (!Number.isInteger(ratio) || ratio < 2)
      throw new Error('inactivityKillSurge.baseline must be a multiple (≥ 2) of the window');
    const before = formatDuration(parseDuration(a.baseline) + parseDuration(w));
    const known = `count by (route) (${selector(c, m.closed)} offset ${before})`;
    out.push(
      alert(c, 'inactivityKillSurge', {
        expr:
          `# At least ${a.minCount} inactivity kills in the last ${w}...\n` +
          `${r.inactivityKills} >= ${a.minCount}\n` +
          `# ...more than ${a.factor}× the average ${w} count of the ${a.baseline} before (0 when there were none)...\n` +
          `and on (route)\n${r.inactivityKills}\n  > on (route)\n` +
          `  ${a.factor} * (\n    sum by (route) (increase(${selector(c, m.inactivityKills)}[${a.baseline}] offset ${w}))\n    or on (route)\n    0 * ${known}\n  ) / ${ratio}\n` +
          `# ...and Prometheus knew the route when that baseline began (no alert on a baseline it did not see).\n` +
          `and on (route)\n${known}`,
        summary: 'Sightline closes far more connections for inactivity than usual.',
        description:
          `Sightline closed {{ $value | humanize }} connections on route {{ $labels.route }} for inactivity in the last ${w}, ` +
          `more than ${a.factor}× its usual rate over the ${a.baseline} before: clients went silent (or stopped sending keep-alives) at once.`,
      }),
    );
  }
  {
    const a = A.heartbeatTimeouts;
    out.push(
      alert(c, 'heartbeatTimeouts', {
        expr: `${r.heartbeatTimeouts}\n/ on (route)\n${r.closes} > ${a.ratio}\nand on (route)\n${r.heartbeatTimeouts} >= ${a.minCount}`,
        summary: 'Many WebSocket clients of a route stop answering the proxy ping.',
        description:
          `{{ $value | humanizePercentage }} of the connections closed on route {{ $labels.route }} in the last ${w} were WebSocket ` +
          `clients that did not answer Sightline's ping within websocket.pingTimeout.`,
      }),
    );
  }
  {
    const a = A.backendConnectFailures;
    out.push(
      alert(c, 'backendConnectFailures', {
        // A backend that never accepted has no connect-duration series: count it as 0 connects.
        expr:
          `${r.connectFailures}\n/ on (route)\n(\n  ${r.connectFailures}\n  + on (route)\n  ` +
          `(${r.connects} or on (route) 0 * ${r.connectFailures})\n) > ${a.ratio}\n` +
          `and on (route)\n${r.connectFailures} >= ${a.minCount}`,
        summary: 'Sightline cannot connect to the backends of a route.',
        description:
          `{{ $value | humanizePercentage }} of Sightline's connects to the backends of route {{ $labels.route }} failed in the last ${w} ` +
          `(refused, unreachable, timed out or untrusted TLS).`,
      }),
    );
  }
  {
    const a = A.connectionsNeverOld;
    const nw = a.window;
    const count = `sum by (route) (increase(${selector(c, `${m.duration}_count`)}[${nw}]))`;
    const oldest = (range, offset) =>
      `max by (route) (max_over_time(${selector(c, m.oldestAge)}[${range}]${offset ? ` offset ${offset}` : ''}))`;
    const closes = (...matchers) => `sum by (route) (increase(${selector(c, m.closed, ...matchers)}[${nw}]))`;
    out.push(
      alert(c, 'connectionsNeverOld', {
        expr:
          `# The oldest open connection seen during the window (0 when none was open at any scrape)...\n` +
          `(\n  ${oldest(nw)}\n  or on (route)\n  0 * ${count}\n) < ${a.ageSeconds}\n` +
          `# ...while connections kept closing on the route...\n` +
          `and on (route)\n${count} >= ${a.minCloses}\n` +
          `# ...although some did get older than that before the window...\n` +
          `and on (route)\n${oldest(a.history, nw)} >= ${a.ageSeconds}\n` +
          `# ...and Sightline's own timers (a lifetime cap) are not what ends them.\n` +
          `unless on (route)\n(\n  ${closes(`initiator="${c.proxyInitiator}"`, `reason=~"${alt(c.proxyTimeoutReasons)}"`)}\n  > on (route)\n  ` +
          `${a.proxyTimeoutShare} * ${closes()}\n)`,
        summary: 'No connection of a route lives past a fixed age any more.',
        description:
          `No connection on route {{ $labels.route }} got older than ${a.ageSeconds} s in the last ${nw} (oldest seen: {{ printf "%.0f" $value }} s) ` +
          `while connections kept closing, though some did before: something cuts them at a fixed age.`,
      }),
    );
  }
  return out;
}

/** The rule file as data. */
export function rulesObject(c) {
  const group = (name, rules) => ({ name, ...(c.ruleInterval ? { interval: c.ruleInterval } : {}), rules });
  return {
    groups: [group(`${c.groupName}.rules`, recordingRules(c)), group(`${c.groupName}.alerts`, alertingRules(c))],
  };
}

/** The rule file as YAML text (what prometheus/rules/sightline.rules.yml holds). */
export function renderRules(c) {
  const doc = new YAML.Document(rulesObject(c));
  doc.commentBefore =
    ' Generated by monitoring/generate.mjs from monitoring/config.mjs' +
    (c.scale === 'production' ? '' : ` (scale: ${c.scale})`) +
    ': edit those, then run `node monitoring/generate.mjs`.';
  return doc.toString({ lineWidth: 0 });
}
