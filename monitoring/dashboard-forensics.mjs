/** The disconnect-forensics dashboard (sightline-disconnect-forensics.json): who closed, when, why. */
import { recordNames } from './rules.mjs';
import { bandsText, bandTargets, dashboard, queries, RATE, routeVariable } from './dashboard-frame.mjs';
import { bargauge, heatmap, q, row, table, text, timeseries } from './dashboard-panels.mjs';

export function forensics(c) {
  const routeMatcher = 'route=~"$route"';
  const { s, rate, quantile, m } = queries(c, routeMatcher);
  const r = recordNames(c);
  return dashboard(c, {
    slug: 'disconnect-forensics',
    title: 'Sightline / Disconnect forensics',
    description:
      "When and why long-lived connections die: lifetime and idle-at-close histograms against the disconnect fingerprints, close reasons, Sightline's own timers, detected patterns.",
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
      bargauge(
        'Closes per fingerprint band (dashboard range)',
        "Closes whose lifetime fell in each fingerprint band, by initiator: client/backend = outside Sightline, proxy = Sightline's own timers.",
        bandTargets(c, routeMatcher),
      ),
      text('Fingerprint bands', bandsText(c)),
      timeseries(
        `Peer-ended share per band (recorded, ${c.window})`,
        `Share of a route's closes that fell in a fingerprint band and were ended by a peer (${r.bandPeerShare}); the ${c.alerts.thirtySecondDrops.band} band drives ${c.prefix}ThirtySecondDrops.`,
        [q(`${r.bandPeerShare}{${routeMatcher}} > 0`, { legend: '{{route}} {{band}}' })],
        { unit: 'percentunit', min: 0 },
      ),
      timeseries(
        'Lifetime quantiles',
        'p50 / p90 / p99 of connection lifetime; exemplars link to traces.',
        [
          q(quantile(m.duration, 0.5), { legend: 'p50' }),
          q(quantile(m.duration, 0.9), { legend: 'p90' }),
          q(quantile(m.duration, 0.99), { legend: 'p99' }),
        ],
        { unit: 's' },
      ),
      row('Why they closed'),
      timeseries(
        'Closes by reason',
        'docs/close-reasons.md says what each means.',
        [q(rate(m.closed, 'reason'), { legend: '{{reason}}' })],
        { unit: 'cps', stack: true },
      ),
      timeseries(
        'Closes by initiator',
        `client / backend: a peer sent FIN or RST; ${c.proxyInitiator}: Sightline decided.`,
        [q(rate(m.closed, 'initiator'), { legend: '{{initiator}}' })],
        {
          unit: 'cps',
          stack: true,
        },
      ),
      timeseries(
        'WebSocket ends by close code',
        'close_frame="false" is the 1006 kind: TCP ended without a close frame.',
        [q(rate(m.websocketCloses, 'code, close_frame'), { legend: '{{code}} frame={{close_frame}}' })],
        { unit: 'cps' },
      ),
      row("Sightline's own timers"),
      timeseries(
        'Inactivity kills',
        'Connections closed for inactivity, by keep-alive treatment; warnings given before the grace.',
        [
          q(rate(m.inactivityKills, 'route, treatment'), { legend: '{{route}} {{treatment}}' }),
          q(rate(m.inactivityWarnings, 'route'), { legend: '{{route}} warnings' }),
        ],
        { unit: 'cps', w: 8 },
      ),
      timeseries(
        'Zombie detections',
        'Half-zombie and stuck connections closed by the lifecycle sweep.',
        [q(rate(m.zombies, 'route, kind'), { legend: '{{route}} {{kind}}' })],
        { unit: 'cps', w: 8 },
      ),
      timeseries(
        'Heartbeat timeouts',
        'WebSocket clients closed for not answering the proxy ping.',
        [q(rate(m.heartbeatTimeouts, 'route'), { legend: '{{route}}' })],
        { unit: 'cps', w: 8 },
      ),
      row('Patterns and ages'),
      table(
        'Detected disconnect patterns',
        'Standing patterns from the in-process detector: period = the clustered age (age-clustered) or the repeat interval (wall-clock-aligned). `sightline diagnose` and the status page name the culprits.',
        [q(`max by (route, kind) (${s(m.patternPeriod)})`, { instant: true, format: 'table' })],
        { unit: 's' },
      ),
      timeseries('Pattern detections', 'New or changed patterns reported by the detector.', [
        q(`sum by (route, kind) (increase(${s(m.patterns)}[${RATE}]))`, { legend: '{{route}} {{kind}}' }),
      ]),
      timeseries(
        'Oldest open connection',
        `Age of the oldest open connection per route; a flat ceiling is a cut at a fixed age (${c.prefix}ConnectionsNeverOld).`,
        [q(`max by (route) (${s(m.oldestAge)})`, { legend: '{{route}}' })],
        { unit: 's' },
      ),
      timeseries('Open connections older than', 'Open connections past each age threshold, computed at scrape time.', [
        q(`sum by (seconds) (${s(m.olderThan)})`, { legend: '> {{seconds}} s' }),
      ]),
    ],
  });
}
