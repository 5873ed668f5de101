/** The overview dashboard (sightline-overview.json): every route at a glance. */
import { abnormalShare, dashboard, queries, RATE } from './dashboard-frame.mjs';
import { q, row, stat, table, timeseries } from './dashboard-panels.mjs';

export function overview(c) {
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
      stat('Accepted / s', 'Connections accepted by the listeners.', q(`sum(rate(${s(m.accepted)}[${RATE}]))`), {
        unit: 'cps',
        decimals: 2,
      }),
      stat('Closed / s', 'Connections ended, every reason.', q(`sum(rate(${s(m.closed)}[${RATE}]))`), {
        unit: 'cps',
        decimals: 2,
      }),
      stat('Rejected / s', 'Refused by an IP list or a limit.', q(`sum(rate(${s(m.rejected)}[${RATE}]))`), {
        unit: 'cps',
        decimals: 2,
      }),
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
      stat(
        'Standing disconnect patterns',
        'Patterns the in-process detector currently reports (see the forensics dashboard).',
        q(`count(${s(m.patternPeriod)}) or vector(0)`, { instant: true }),
        {
          thresholds: {
            mode: 'absolute',
            steps: [
              { color: 'green', value: null },
              { color: 'orange', value: 1 },
            ],
          },
        },
      ),
      row('Connections'),
      timeseries(
        'Active connections by route',
        'Open connections per route (unrouted: "none"). Click a series for the route detail.',
        [q(`sum by (route) (${s(m.active)})`, { legend: '{{route}}' })],
        {
          links: detailLink,
          exemplars: false,
        },
      ),
      timeseries(
        'Oldest open connection by route',
        'Age of the oldest open connection of each route.',
        [q(`max by (route) (${s(m.oldestAge)})`, { legend: '{{route}}' })],
        { unit: 's', exemplars: false, links: detailLink },
      ),
      timeseries(
        'Accepted by port',
        'Connections accepted per listener port, before any check.',
        [q(rate(m.accepted, 'port'), { legend: ':{{port}}' })],
        { unit: 'cps', exemplars: false },
      ),
      timeseries(
        'Rejected by route and reason',
        'Refused by an IP list or a limit.',
        [q(rate(m.rejected, 'route, reason'), { legend: '{{route}} {{reason}}' })],
        { unit: 'cps', exemplars: false },
      ),
      row('Closes'),
      timeseries(
        'Closes by reason',
        'Why connections ended (docs/close-reasons.md).',
        [q(rate(m.closed, 'reason'), { legend: '{{reason}}' })],
        { unit: 'cps', stack: true, exemplars: false },
      ),
      timeseries(
        'Closes by initiator',
        `Who ended them: client, backend, or ${c.proxyInitiator} (Sightline's own decision).`,
        [q(rate(m.closed, 'initiator'), { legend: '{{initiator}}' })],
        {
          unit: 'cps',
          stack: true,
          exemplars: false,
        },
      ),
      timeseries(
        'Closes by route',
        'Connections ended per route.',
        [q(rate(m.closed, 'route'), { legend: '{{route}}' })],
        { unit: 'cps', exemplars: false, links: detailLink },
      ),
      timeseries(
        'Lifetime p50 / p99 (all routes)',
        'Connection lifetime quantiles; exemplars link to the trace of a connection.',
        [q(quantile(m.duration, 0.5), { legend: 'p50' }), q(quantile(m.duration, 0.99), { legend: 'p99' })],
        { unit: 's' },
      ),
      row('Bytes and backends'),
      timeseries(
        'Bytes by route',
        'in = from clients, out = to clients.',
        [q(rate(m.bytes, 'route, direction'), { legend: '{{route}} {{direction}}' })],
        { unit: 'Bps', exemplars: false },
      ),
      timeseries(
        'Backend connect p95 by route',
        'Time to connect to a backend (TCP, or TCP+TLS when re-encrypting).',
        [q(quantile(m.backendConnectDuration, 0.95, 'route'), { legend: '{{route}}' })],
        {
          unit: 's',
          exemplars: false,
        },
      ),
      timeseries(
        'Backend connect failures',
        'Refused, unreachable, timed out, untrusted TLS.',
        [q(rate(m.backendConnectFailures, 'route, reason'), { legend: '{{route}} {{reason}}' })],
        {
          unit: 'cps',
          exemplars: false,
        },
      ),
      timeseries(
        'HTTP exchanges by status class',
        'HTTP routes only.',
        [q(rate(m.httpRequests, 'status_class'), { legend: '{{status_class}}' })],
        { unit: 'reqps', stack: true, exemplars: false },
      ),
      timeseries(
        'TLS and ClientHello failures',
        'Handshakes that failed on terminating routes; first bytes that were no usable ClientHello on SNI ports.',
        [
          q(rate(m.tlsHandshakeFailures, 'reason'), { legend: 'handshake {{reason}}' }),
          q(rate(m.clientHelloFailures, 'reason'), { legend: 'ClientHello {{reason}}' }),
        ],
        { unit: 'cps', exemplars: false },
      ),
      timeseries(
        'Limit hits',
        'Connection caps, rate limit, buffered bytes.',
        [q(rate(m.limitRejections, 'route, limit'), { legend: '{{route}} {{limit}}' })],
        { unit: 'cps', exemplars: false },
      ),
      row('Sightline'),
      table(
        'Running versions',
        'sightline_build_info per instance.',
        [q(`sum by (instance, version, node) (${s(m.buildInfo)})`, { instant: true, format: 'table' })],
        { hide: ['Time', 'Value'] },
      ),
      timeseries(
        'Config reloads and telemetry errors',
        'Route table swaps; errors caught in telemetry subscribers (should stay 0).',
        [
          q(`sum(increase(${s(m.configReloads)}[${RATE}]))`, { legend: 'reloads' }),
          q(`sum by (subscriber) (increase(${s(m.telemetryErrors)}[${RATE}]))`, {
            legend: 'telemetry errors {{subscriber}}',
          }),
        ],
        { exemplars: false },
      ),
      timeseries(
        'HTTP upstream pool sockets',
        'Pool sockets by state (open includes idle).',
        [q(`sum by (state) (${s(m.upstreamSockets)})`, { legend: '{{state}}' })],
        { exemplars: false },
      ),
    ],
  });
}
