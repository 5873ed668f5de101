/** The route-detail dashboard (sightline-route-detail.json): one route, in depth. */
import { recordNames } from './rules.mjs';
import { abnormalShare, bandTargets, dashboard, queries, RATE, routeVariable } from './dashboard-frame.mjs';
import { bargauge, heatmap, q, row, stat, table, timeseries } from './dashboard-panels.mjs';

export function routeDetail(c) {
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
      stat(
        'Abnormal closes',
        `Share of closes whose reason is not one of ${c.normalReasons.join(', ')}.`,
        q(abnormalShare(c, s)),
        {
          unit: 'percentunit',
          thresholds: {
            mode: 'absolute',
            steps: [
              { color: 'green', value: null },
              { color: 'orange', value: 0.2 },
              { color: 'red', value: 0.5 },
            ],
          },
        },
      ),
      stat('Bytes in / s', 'From clients.', q(`sum(rate(${s(m.bytes, 'direction="in"')}[${RATE}]))`), { unit: 'Bps' }),
      stat('Bytes out / s', 'To clients.', q(`sum(rate(${s(m.bytes, 'direction="out"')}[${RATE}]))`), { unit: 'Bps' }),
      row('Closes'),
      timeseries('Closes by reason', '', [q(rate(m.closed, 'reason'), { legend: '{{reason}}' })], {
        unit: 'cps',
        stack: true,
      }),
      timeseries('Closes by initiator', '', [q(rate(m.closed, 'initiator'), { legend: '{{initiator}}' })], {
        unit: 'cps',
        stack: true,
      }),
      heatmap(
        'Lifetime at close',
        'Duration buckets; the edges bracket the fingerprints.',
        q(`sum by (le) (increase(${s(`${m.duration}_bucket`)}[${RATE}]))`),
      ),
      heatmap(
        'Idle at close',
        'Idle gap at close; equal to the lifetime: an idle timer.',
        q(`sum by (le) (increase(${s(`${m.idleAtClose}_bucket`)}[${RATE}]))`),
      ),
      timeseries(
        'Lifetime quantiles',
        'Exemplars link to the trace of a connection.',
        [
          q(quantile(m.duration, 0.5, 'initiator'), { legend: 'p50 {{initiator}}' }),
          q(quantile(m.duration, 0.99, 'initiator'), { legend: 'p99 {{initiator}}' }),
        ],
        { unit: 's' },
      ),
      timeseries(
        `Peer-ended share per band (recorded, ${c.window})`,
        'Closes in a fingerprint band ended by a peer, over all closes.',
        [q(`${r.bandPeerShare}{${routeMatcher}} > 0`, { legend: '{{band}}' })],
        {
          unit: 'percentunit',
          min: 0,
        },
      ),
      bargauge('Closes per fingerprint band (dashboard range)', 'By initiator.', bandTargets(c, routeMatcher), {
        w: 24,
        h: 8,
      }),
      row('Lifecycle'),
      timeseries('Oldest open connection', '', [q(`max(${s(m.oldestAge)})`, { legend: 'oldest' })], {
        unit: 's',
        w: 8,
      }),
      timeseries(
        'Open connections older than',
        '',
        [q(`sum by (seconds) (${s(m.olderThan)})`, { legend: '> {{seconds}} s' })],
        { w: 8 },
      ),
      timeseries(
        'Inactivity, zombies, heartbeats',
        "Sightline's own timers.",
        [
          q(rate(m.inactivityKills, 'treatment'), { legend: 'inactivity {{treatment}}' }),
          q(rate(m.inactivityWarnings, 'route'), { legend: 'idle warnings' }),
          q(rate(m.zombies, 'kind'), { legend: '{{kind}}' }),
          q(rate(m.heartbeatTimeouts, 'route'), { legend: 'heartbeat timeouts' }),
        ],
        { unit: 'cps', w: 8 },
      ),
      table(
        'Detected disconnect patterns',
        '',
        [q(`max by (kind) (${s(m.patternPeriod)})`, { instant: true, format: 'table' })],
        { unit: 's', w: 8 },
      ),
      timeseries(
        'Rejections and limit hits',
        '',
        [
          q(rate(m.rejected, 'reason'), { legend: 'rejected {{reason}}' }),
          q(rate(m.limitRejections, 'limit'), { legend: 'limit {{limit}}' }),
        ],
        { unit: 'cps', w: 16 },
      ),
      row('Backend and protocols'),
      timeseries(
        'Backend connect time',
        '',
        [
          q(quantile(m.backendConnectDuration, 0.5), { legend: 'p50' }),
          q(quantile(m.backendConnectDuration, 0.95), { legend: 'p95' }),
        ],
        { unit: 's', w: 8 },
      ),
      timeseries(
        'Backend connect failures',
        '',
        [q(rate(m.backendConnectFailures, 'reason'), { legend: '{{reason}}' })],
        { unit: 'cps', w: 8 },
      ),
      timeseries(
        'TLS handshake failures',
        'Terminating routes.',
        [q(rate(m.tlsHandshakeFailures, 'reason'), { legend: '{{reason}}' })],
        { unit: 'cps', w: 8 },
      ),
      timeseries(
        'HTTP exchanges',
        'By status class and reason.',
        [q(rate(m.httpRequests, 'status_class, reason'), { legend: '{{status_class}} {{reason}}' })],
        { unit: 'reqps', w: 8 },
      ),
      timeseries(
        'HTTP duration p95',
        'Request head to end of response; exemplars link to traces.',
        [q(quantile(m.httpDuration, 0.95, 'status_class'), { legend: '{{status_class}}' })],
        {
          unit: 's',
          w: 8,
        },
      ),
      timeseries(
        'WebSocket ends',
        'By close-code class; close_frame="false" is 1006.',
        [q(rate(m.websocketCloses, 'code, close_frame'), { legend: '{{code}} frame={{close_frame}}' })],
        {
          unit: 'cps',
          w: 8,
        },
      ),
    ],
  });
}
