/**
 * Findings beyond periodicity: a route whose recent closes are dominated by abnormal reasons
 * (heartbeat misses at random moments, half-zombies, stuck backends, refused connects, resets).
 * Such closes need not share an age or an instant, so the periodic analyses (patterns.ts) never
 * see them; this tracker counts them per route over a sliding window.
 *
 * Which reasons: `countsAsAbnormalClose` of core/close-reason-table.ts: abnormal, less refusals
 * (the connection never carried traffic: admission limits have their own counters and alerts) and
 * less the closes an operator or a configured policy asks for on purpose: drains (`shutdown`,
 * `admin_closed`) and idle and age caps (`inactivity`, `lifetime`, `socket_timeout`: when they end
 * most connections, the age-clustered detector names the setting).
 *
 * The baseline, and why: a finding needs, within the last 10 minutes, at least 10 abnormal closes
 * (a rate of one a minute: below that a handful of mobile clients dropping off is noise) that are
 * at least half of the route's closes (a healthy route ends a few percent abnormally: resets from
 * flaky networks, the odd refused connect during a deploy; half is far outside that and says the
 * route's usual way of ending is broken). Per route state: a ring of the last 128 closes.
 */
import { ALL_CLOSE_REASONS, isRejection, type CloseReason as Reason } from '../core/close-reasons.js';
import { closeReasonInfo, countsAsAbnormalClose, type AdviceKey } from '../core/close-reason-table.js';
import type { ConfiguredTimer } from './configured-timers.js';
import { INITIATORS, LOCAL_BIT, touchRoute, type Members } from './pattern-ring.js';
import type { CloseSample, DetectedPattern } from './pattern-types.js';
import { topReason, whoClosed } from './pattern-naming.js';

export const ABNORMAL_WINDOW_MS = 600_000;
export const ABNORMAL_MIN_COUNT = 10;
export const ABNORMAL_MIN_SHARE = 0.5;
const RING = 128;

const KNOWN: ReadonlySet<string> = new Set<string>(ALL_CLOSE_REASONS);
/** Reason → its index in ALL_CLOSE_REASONS (the ring stores indices). */
const CODE: ReadonlyMap<string, number> = new Map(ALL_CLOSE_REASONS.map((r, i) => [r, i]));

/** Abnormal closes that are nobody's intent: the set the tracker counts. */
export function countsAsAbnormal(reason: string): boolean {
  const info = closeReasonInfo(reason);
  return info !== undefined && countsAsAbnormalClose(info);
}

/** The verdict on one route's closes by reason over a window, shared with `diagnose` (Prometheus counts). */
export function abnormalVerdict(
  byReason: Readonly<Record<string, number>>,
): { abnormal: number; total: number; share: number; reasons: Record<string, number> } | null {
  let total = 0;
  let abnormal = 0;
  const reasons: Record<string, number> = {};
  for (const [r, n] of Object.entries(byReason)) {
    if (!(n > 0) || (KNOWN.has(r) && isRejection(r as Reason))) continue;
    total += n;
    if (!countsAsAbnormal(r)) continue;
    abnormal += n;
    reasons[r] = n;
  }
  const share = total === 0 ? 0 : abnormal / total;
  return abnormal >= ABNORMAL_MIN_COUNT && share >= ABNORMAL_MIN_SHARE ? { abnormal, total, share, reasons } : null;
}

/** What an abnormal reason usually means, and where to look, by the reason's `advice` key. */
export const ABNORMAL_MEANING: Readonly<Partial<Record<AdviceKey, string>>> = {
  'websocket-heartbeat':
    'WebSocket clients stopped answering pings (gone without a FIN: mobile networks, sleeping laptops, a middlebox that drops pings or idle flows)',
  'half-zombie-grace':
    'one side went away and the other stayed silent past the half-zombie grace (a peer that never closes its half, or a NAT/LB that dropped the flow silently)',
  'stuck-threshold':
    'the client spoke and the backend never answered (an overloaded or wedged backend, or a protocol mismatch on this route)',
  'backend-unreachable': 'the backend refused or was unreachable (down, wrong port, a firewall)',
  'backend-dns':
    "the backend's host name did not resolve (a wrong name, a DNS outage, a missing record in this network)",
  'backend-connect-timeout': 'the backend did not accept in time (overloaded, or packets dropped on the way)',
  'backend-reset':
    'the backend aborted connections with RST (crashes, restarts, its own limits, an LB in between resetting flows)',
  'client-reset': 'clients aborted with RST (an LB or NAT in front resetting flows, clients killed abruptly)',
  'backend-socket-error': 'socket errors on the backend side (EPIPE and the like)',
  'client-socket-error': 'socket errors on the client side (EPIPE and the like)',
  'backend-keepalive':
    'TCP keep-alive probes to idle backends went unanswered (a backend host gone, or a path that drops idle flows)',
  'client-keepalive':
    'TCP keep-alive probes to idle clients went unanswered (clients gone without a FIN: mobile networks, sleeping laptops, a NAT that forgot the flow)',
  'write-stall':
    'a peer stopped reading while data waited for it (a slow or wedged consumer, a full receive window that never opens)',
  'websocket-no-close-frame': 'WebSockets ended without a close frame (what browsers report as 1006)',
  'websocket-upgrade-rejected':
    'the backend refused WebSocket upgrades (answered with something other than 101: a wrong path, auth, a backend without WebSocket support)',
  'http-body-timeout':
    'request bodies did not arrive in time (slow or stalled uploads, a client that announced more than it sends)',
  'http-headers-timeout': 'request heads did not arrive in time (slow or hostile clients, slowloris-style)',
  'http-response-timeout':
    'the backend did not start answering in time (a slow or saturated backend, requests slow by design)',
  'initial-data-timeout':
    'clients connected and sent nothing (port-only health checks, scanners, a protocol where the server speaks first)',
  'tls-handshake-timeout': 'TLS handshakes did not finish in time (slow or stalled clients, clients not speaking TLS)',
};

export function abnormalMeaning(reason: string): string {
  const key = closeReasonInfo(reason)?.advice;
  return (key != null ? ABNORMAL_MEANING[key] : undefined) ?? `see docs/close-reasons.md (${reason})`;
}

interface RouteAbn {
  readonly at: Float64Array;
  readonly code: Uint8Array;
  readonly flags: Uint8Array;
  n: number;
  head: number;
  seen: number;
  standing: DetectedPattern | null;
}

const NO_REASON = 255;

/** Per reason index: 1 abnormal (counted), 2 a refusal (not a close of carried traffic), 0 otherwise. */
const ABNORMAL_CODE: Uint8Array = Uint8Array.from(ALL_CLOSE_REASONS, (r) =>
  isRejection(r) ? 2 : countsAsAbnormal(r) ? 1 : 0,
);

export class AbnormalTracker {
  readonly #routes = new Map<string, RouteAbn>();
  readonly #counts = new Int32Array(ALL_CLOSE_REASONS.length);
  readonly #maxRoutes: number;

  constructor(maxRoutes: number) {
    this.#maxRoutes = maxRoutes;
  }

  /** Count one close (any duration); returns the finding when it first stands or its top reason changes. */
  observe(s: CloseSample, timers: readonly ConfiguredTimer[]): DetectedPattern | null {
    const st = touchRoute(this.#routes, s.route, this.#maxRoutes, (): RouteAbn => ({
      at: new Float64Array(RING),
      code: new Uint8Array(RING),
      flags: new Uint8Array(RING),
      n: 0,
      head: 0,
      seen: 0,
      standing: null,
    }));
    const i = st.n < RING ? st.n++ : st.head;
    if (st.n === RING && i === st.head) st.head = (st.head + 1) % RING;
    const code = CODE.get(s.reason);
    const abnormal = code !== undefined && ABNORMAL_CODE[code] === 1;
    st.at[i] = s.at;
    st.code[i] = code ?? NO_REASON;
    st.flags[i] = Math.max(0, INITIATORS.indexOf(s.initiator)) | (s.local ? LOCAL_BIT : 0);
    // Analyse on each abnormal close until a finding stands, then on every 8th close (its counts
    // refresh, it lapses): a busy broken route costs one pass over the ring per 8 closes.
    const seen = ++st.seen;
    if (st.standing === null ? !abnormal && (seen & 15) !== 0 : (seen & 7) !== 0) return null;
    const found = this.#analyse(s.route, st, s.at, timers);
    const prev = st.standing;
    st.standing = found;
    if (found === null) return null;
    if (prev !== null && topReason(prev.reasons) === topReason(found.reasons)) {
      st.standing = Object.freeze({ ...found, firstSeen: prev.firstSeen });
      return null;
    }
    return found;
  }

  /** Findings standing at `now` (the window still holds enough abnormal closes). */
  snapshot(now: number, out: DetectedPattern[]): void {
    for (const st of this.#routes.values()) {
      const p = st.standing;
      if (p === null) continue;
      if (now - p.lastSeen > ABNORMAL_WINDOW_MS) st.standing = null;
      else out.push(p);
    }
  }

  #analyse(route: string, st: RouteAbn, now: number, timers: readonly ConfiguredTimer[]): DetectedPattern | null {
    // Counting by reason index first: the verdict is cheap, the finding is built only when it holds.
    const counts = this.#counts.fill(0);
    let total = 0;
    let abnormal = 0;
    for (let k = 0; k < st.n; k++) {
      const c = st.code[k]!;
      if (now - st.at[k]! > ABNORMAL_WINDOW_MS || c === NO_REASON || ABNORMAL_CODE[c] === 2) continue;
      counts[c]!++;
      total++;
      abnormal += ABNORMAL_CODE[c]!;
    }
    if (abnormal < ABNORMAL_MIN_COUNT || abnormal < ABNORMAL_MIN_SHARE * total) return null;
    const byReason: Record<string, number> = {};
    counts.forEach((n, c) => {
      if (n > 0) byReason[ALL_CLOSE_REASONS[c]!] = n;
    });
    const v = abnormalVerdict(byReason);
    if (v === null) return null;
    const m: Members = {
      count: 0,
      silent: 0,
      local: 0,
      firstSeen: Infinity,
      lastSeen: -Infinity,
      byInitiator: [0, 0, 0],
      reasons: v.reasons,
    };
    for (let k = 0; k < st.n; k++) {
      if (now - st.at[k]! > ABNORMAL_WINDOW_MS || st.code[k] === NO_REASON || ABNORMAL_CODE[st.code[k]!] !== 1)
        continue;
      m.count++;
      if ((st.flags[k]! & LOCAL_BIT) !== 0) m.local++;
      m.byInitiator[st.flags[k]! & 3]!++;
      m.firstSeen = Math.min(m.firstSeen, st.at[k]!);
      m.lastSeen = Math.max(m.lastSeen, st.at[k]!);
    }
    const { initiator, local } = whoClosed(m);
    const top = topReason(v.reasons);
    const own = timers.find((t) => t.reason === top);
    const culprits: string[] = [];
    if (own !== undefined)
      culprits.push(`Sightline's own \`${own.setting}\` on route ${route} decided (reason ${top})`);
    for (const r of Object.keys(v.reasons).sort((a, b) => v.reasons[b]! - v.reasons[a]!))
      culprits.push(`${r}: ${abnormalMeaning(r)}`);
    const pct = Math.round(v.share * 100);
    const list = Object.entries(v.reasons)
      .sort((a, b) => b[1] - a[1])
      .map(([r, n]) => `${r} ${n}`)
      .join(', ');
    const summary =
      `closes on route ${route} are dominated by abnormal reasons (abnormal-reason, closed by ${initiator}${local ? ' (proxy decision)' : ''}): ` +
      `${v.abnormal} of ${v.total} closes in the last ${ABNORMAL_WINDOW_MS / 60_000} min (${pct} %), mostly ${top} (${list}); ` +
      `baseline: at least ${ABNORMAL_MIN_COUNT} abnormal closes and ${ABNORMAL_MIN_SHARE * 100} % of the route's closes`;
    return Object.freeze({
      route,
      kind: 'abnormal-reason',
      periodMs: 0,
      measuredMs: null,
      setting: own?.setting ?? null,
      undecided: null,
      timersOnPath: Object.freeze([]),
      spreadMs: 0,
      count: v.abnormal,
      timer: 'unknown',
      initiator,
      local,
      reasons: Object.freeze(v.reasons),
      culprits: Object.freeze(culprits),
      summary,
      firstSeen: m.firstSeen,
      lastSeen: m.lastSeen,
    });
  }
}
