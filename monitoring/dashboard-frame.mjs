/**
 * What every Sightline dashboard shares (dashboards.mjs): the dashboard model around the panels
 * (annotations, links, the datasource and route variables) and the queries several dashboards
 * use (per-route rates and quantiles, fingerprint bands, the abnormal share).
 */
import { leMatcher } from './promql.mjs';
import { selector } from './rules.mjs';
import { ds, layout, q } from './dashboard-panels.mjs';

export const SCHEMA_VERSION = 39;

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

export function routeVariable(c, { multi }) {
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

export function dashboard(c, { slug, title, description, variables, panels }) {
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
    links: [
      {
        title: 'Sightline',
        type: 'dashboards',
        tags: [...d.tags],
        asDropdown: true,
        includeVars: true,
        keepTime: true,
        icon: 'external link',
        targetBlank: false,
        tooltip: '',
        url: '',
      },
    ],
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

export const RATE = '$__rate_interval';

export function queries(c, routeMatcher) {
  const m = c.metrics;
  const s = (metric, ...matchers) => selector(c, metric, ...(routeMatcher ? [routeMatcher] : []), ...matchers);
  const rate = (metric, by, ...matchers) => `sum by (${by}) (rate(${s(metric, ...matchers)}[${RATE}]))`;
  const quantile = (metric, qv, by = '') =>
    `histogram_quantile(${qv}, sum by (${by ? `${by}, ` : ''}le) (rate(${s(`${metric}_bucket`)}[${RATE}])))`;
  return { s, rate, quantile, m };
}

/** Closes per fingerprint band over the dashboard range, by initiator (one query per band). */
export function bandTargets(c, routeMatcher) {
  const m = c.metrics;
  return c.bands.map((b) => {
    const bucket = (edge) =>
      `sum by (initiator) (increase(${selector(c, `${m.duration}_bucket`, ...(routeMatcher ? [routeMatcher] : []), leMatcher(edge))}[$__range]))`;
    return q(`${bucket(b.hi)}\n-\n${bucket(b.lo)}`, { legend: `${b.name} ({{initiator}})`, instant: true });
  });
}

export function bandsText(c) {
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

export const abnormalShare = (c, s) =>
  `sum(rate(${s(c.metrics.closed, `reason!~"${c.normalReasons.join('|')}"`)}[${RATE}]))\n/\nsum(rate(${s(c.metrics.closed)}[${RATE}]))`;
