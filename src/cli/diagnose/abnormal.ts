/**
 * The `diagnose` section for routes whose closes are dominated by abnormal reasons (heartbeat
 * misses, half-zombies, stuck backends, refused connects, resets): a finding like a disconnect
 * pattern (exit 1), with no period. From the admin API it is the detector's `abnormal-reason`
 * finding (its 10-minute window); from Prometheus the same baseline (telemetry/abnormal.ts) is
 * applied to the closes by reason over the query window.
 */
import {
  ABNORMAL_MIN_COUNT,
  ABNORMAL_MIN_SHARE,
  ABNORMAL_WINDOW_MS,
  abnormalMeaning,
  abnormalVerdict,
} from '../../telemetry/abnormal.js';
import { closeReasonInfo, type AdviceKey } from '../../core/close-reason-table.js';
import type { Finding } from './analyse.js';
import type { Facts, PatternFact, RouteFacts } from './facts.js';

export const ABNORMAL_KIND = 'abnormal-reason';

/** What to check, by the reason's `advice` key (the settings that decide Sightline's own abnormal closes first). */
const CHECKS: Readonly<Partial<Record<AdviceKey, string>>> = {
  'websocket-heartbeat':
    "clients stopped answering Sightline's WebSocket pings: look at where they are (mobile networks, sleeping tabs and laptops) and at middleboxes that drop pings or idle flows; the route's `action.websocket.pingTimeout` gives slow clients longer, `pingInterval` sets how often they are probed",
  'half-zombie-grace':
    'one side left and the other stayed silent past `lifecycle.halfZombieGrace` (plain TCP) / `lifecycle.halfZombieGraceTls`: find which side leaves without closing (access log `firstSide`), or a NAT/LB dropping flows silently',
  'stuck-threshold':
    'the backend never answered a client that spoke: check the backend (health, logs, saturation) and that the route sends it the protocol it expects; `lifecycle.stuckThreshold` / `stuckThresholdTls` set how long Sightline waits',
  'backend-unreachable':
    "the backend refused or was unreachable: is it up and listening at the route's target (access log `target`), firewalls",
  'backend-connect-timeout':
    'the backend did not accept within `connectionTimeout`: overload (accept queue), or packets dropped on the way',
  'backend-reset':
    'the backend aborted with RST: its logs at those times (crashes, restarts, its own connection limits), or a load balancer between Sightline and it resetting flows',
  'backend-socket-error':
    'socket errors toward the backend (EPIPE and the like): the network path to the backend and the backend host',
  'client-reset':
    'clients aborted with RST: a load balancer or NAT in front of Sightline resetting flows, or clients killed abruptly',
  'client-socket-error':
    'socket errors toward the clients (EPIPE and the like): the network path in front of Sightline',
  'websocket-no-close-frame':
    'WebSockets ended without a close frame: which side dropped the TCP connection (`initiator` in the access log) and why',
  'backend-dns':
    "the backend's host name did not resolve: the route's target (access log `target`), the resolver Sightline's host uses, and whether the name exists in this network",
  'backend-keepalive':
    'keep-alive probes to idle backends went unanswered: the backend hosts, and firewalls or NATs between Sightline and them that drop idle flows',
  'client-keepalive':
    "keep-alive probes to idle clients went unanswered: clients that vanish (mobile networks, sleeping devices) or a NAT/LB in front that forgets idle flows; Sightline's `keepAliveInitialDelay` sets when probing starts",
  'write-stall':
    "a peer stopped reading while data waited (the access log's `initiator` names it): a slow or wedged consumer; `lifecycle.writeStallTimeout` sets how long Sightline waits",
  'websocket-upgrade-rejected':
    'the backend answered WebSocket upgrades with something other than 101: its logs for those requests (path, authentication, WebSocket support on that port)',
  'http-body-timeout':
    'request bodies stalled past `http.requestBodyTimeout` between two reads: stalled uploads or clients that announce more than they send',
  'http-headers-timeout':
    'request heads did not complete within `http.requestHeadersTimeout`: slow or hostile clients (slowloris), or a client speaking another protocol on this port',
  'http-response-timeout':
    'the backend did not start its responses within `http.responseTimeout`: its latency for those requests (slow queries, saturation); raise the timeout only on routes slow by design',
  'initial-data-timeout':
    'clients sent no first bytes within `initialDataTimeout`: TCP health checks, port scanners, or a server-speaks-first protocol on a port that needs the first bytes to route',
  'tls-handshake-timeout':
    "TLS handshakes did not finish within the route's `action.tls.handshakeTimeout`: slow networks, stalled clients, or clients not speaking TLS",
};

const pct = (x: number): string => `${Math.round(x * 100)} %`;

function sorted(reasons: Readonly<Record<string, number>>): Array<[string, number]> {
  return Object.entries(reasons).sort((a, b) => b[1] - a[1]);
}

function build(
  route: string,
  reasons: Readonly<Record<string, number>>,
  abnormal: number,
  total: number | null,
  initiator: string,
  local: boolean,
  span: string,
  p?: PatternFact,
): Finding {
  const list = sorted(reasons);
  const top = list[0]?.[0] ?? 'unknown';
  const of = total === null ? '' : ` of ${total}`;
  const share = total === null || total === 0 ? '' : ` (${pct(abnormal / total)})`;
  const side = local
    ? 'by Sightline itself'
    : initiator === 'backend'
      ? 'by the backend side'
      : initiator === 'client'
        ? 'by the client side'
        : 'by an unrecorded side';
  const culprits =
    p?.culprits !== undefined && p.culprits.length > 0
      ? [...p.culprits]
      : list.map(([r]) => `${r}: ${abnormalMeaning(r)}`);
  const checks: string[] = [];
  if (p?.setting !== undefined && p.setting !== null)
    checks.push(`the setting that decided: \`${p.setting}\` on route ${route}`);
  for (const [r] of list.slice(0, 3)) {
    const key = closeReasonInfo(r)?.advice;
    checks.push((key != null ? CHECKS[key] : undefined) ?? `the close reason ${r}: see docs/close-reasons.md`);
  }
  return {
    route,
    kind: ABNORMAL_KIND,
    periodSeconds: 0,
    spreadSeconds: null,
    count: abnormal,
    initiator,
    local,
    timer: 'unknown',
    headline: `connections on route ${route} mostly end abnormally: ${abnormal}${of} closes${share} ${span}, mostly ${top}, ${side}`,
    evidence: [
      `abnormal closes by reason: ${list.map(([r, n]) => `${r} ${n}`).join(', ')}`,
      `baseline: a finding needs at least ${ABNORMAL_MIN_COUNT} abnormal closes that are at least ${pct(ABNORMAL_MIN_SHARE)} of the route's closes (drains, idle and age caps and refusals do not count)`,
    ],
    culprits,
    checks,
    summary: p?.summary ?? null,
    instances: [],
  };
}

/** The abnormal-reason finding of one route, or none. */
export function abnormalFindings(r: RouteFacts, source: Facts['source']['kind'], window: string | null): Finding[] {
  if (source === 'admin') {
    return r.patterns
      .filter((p) => p.kind === ABNORMAL_KIND)
      .map((p) =>
        build(
          r.route,
          p.reasons ?? {},
          p.count ?? 0,
          null,
          p.initiator ?? 'unknown',
          p.local ?? false,
          `in the detector's last ${ABNORMAL_WINDOW_MS / 60_000} min`,
          p,
        ),
      );
  }
  const byReason: Record<string, number> = {};
  for (const c of r.closes) byReason[c.reason] = (byReason[c.reason] ?? 0) + c.count;
  const v = abnormalVerdict(byReason);
  if (v === null) return [];
  const who = new Map<string, number>();
  for (const c of r.closes)
    if (v.reasons[c.reason] !== undefined) who.set(c.initiator, (who.get(c.initiator) ?? 0) + c.count);
  const initiator = [...who].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown';
  return [
    build(
      r.route,
      v.reasons,
      v.abnormal,
      v.total,
      initiator,
      initiator === 'proxy',
      `over the last ${window ?? 'window'}`,
    ),
  ];
}
