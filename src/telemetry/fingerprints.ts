/**
 * The disconnect fingerprint table (reference/disconnect-fingerprints.md) as data: the lifetimes
 * and idle gaps at which long-lived connections die, each with the timers usually behind them.
 * The pattern detector, `diagnose` and the duration / idle-at-close histograms all read this one
 * table; a test keeps the histogram edges bracketing every value.
 *
 * A row whose culprits are of different timer families is split into one row per family (same
 * value), so a detected pattern can list first the culprits that fit its shape: shared timers
 * (pool eviction, reloads) for wall-clock-aligned closes, idle timers when idle-at-close ≈ the age,
 * age deadlines when traffic was still flowing at the kill.
 */

/** The two shapes of a disconnect pattern (DESIGN §3, reference "Two shapes matter"). */
export type PatternShape = 'age-clustered' | 'wall-clock-aligned';

/** What idle-at-close says about the timer of a pattern. */
export type PatternTimer = 'idle-timeout' | 'age-cap' | 'unknown';

/** The timer family of a row's culprits. */
export const TimerFamily = {
  /** Fires after a silence: the idle gap at close equals the value. */
  Idle: 'idle',
  /** Fires at a fixed age whatever the traffic (a deadline, a lifetime cap). */
  Age: 'age',
  /** One timer shared by many connections (pool eviction, reload): they die at the same instant. */
  Shared: 'shared',
} as const;
export type TimerFamily = (typeof TimerFamily)[keyof typeof TimerFamily];

/**
 * Which side's connection a row's culprits close, as Sightline sees it: `client` (something in
 * front of Sightline: a CDN, a load balancer, HAProxy `timeout client`), `backend` (between
 * Sightline and the backend, or the backend itself: `timeout server`, Node's server timeouts),
 * `either` (a product that sits on either side), `proxy` (a proxy's own lifecycle rule: Sightline's,
 * or another proxy's on the path).
 */
export type CulpritSide = 'client' | 'backend' | 'either' | 'proxy';

export interface Fingerprint {
  /** The value in seconds (the centre of a range). */
  readonly seconds: number;
  /** Half-width of a range row (2–3 s is 2.5 ± 0.5); absent for a single value. */
  readonly toleranceSeconds?: number;
  readonly culprits: readonly string[];
  /** The timer family of the culprits; absent when unclear or mixed. */
  readonly kind?: TimerFamily;
  readonly side: CulpritSide;
}

const row = (
  seconds: number,
  culprits: readonly string[],
  kind: TimerFamily | undefined,
  side: CulpritSide,
  toleranceSeconds?: number,
): Fingerprint =>
  Object.freeze({
    seconds,
    culprits: Object.freeze([...culprits]),
    side,
    ...(kind === undefined ? {} : { kind }),
    ...(toleranceSeconds === undefined ? {} : { toleranceSeconds }),
  });

const { Idle, Age, Shared } = TimerFamily;

/** Every row of the reference table, in its order (rows split by family and side). */
export const FINGERPRINTS: readonly Fingerprint[] = Object.freeze([
  // A read deadline fires when no byte came in time: an idle cut on a silent connection, an age
  // cap on a busy one whose deadline is never pushed back, so its family is left open.
  row(
    2.5,
    ['a proxy read deadline introduced by an upgrade (a lingering/peek timeout, 2–3 s)'],
    undefined,
    'either',
    0.5,
  ),
  row(11.5, ['ingress controller reloads with a short worker shutdown timeout (10–13 s)'], Shared, 'either', 1.5),
  row(15, ['Envoy route timeout (15 s) left enabled for upgraded connections'], Age, 'either'),
  row(
    30,
    ['a heartbeat or half-zombie grace (30 s) applied where pings cannot flow (SNI passthrough)'],
    undefined,
    'proxy',
  ),
  row(30, ['HAProxy `timeout client 30s` without `timeout tunnel`'], Idle, 'client'),
  row(30, ['HAProxy `timeout server 30s` without `timeout tunnel`'], Idle, 'backend'),
  row(30, ['Azure Application Gateway backend timeout (30 s)'], Idle, 'either'),
  row(50, ['HAProxy sample defaults `timeout client 50s` below an application heartbeat of 55 s'], Idle, 'client'),
  row(50, ['HAProxy sample defaults `timeout server 50s` below an application heartbeat of 55 s'], Idle, 'backend'),
  row(60, ['nginx `proxy_read_timeout` default (60 s)', 'AWS ALB idle timeout default (60 s)'], Idle, 'either'),
  row(60, ['Node >= 18 HTTP server `headersTimeout`/`requestTimeout` still armed on upgraded sockets'], Age, 'backend'),
  row(60, ['a 60 s stuck-connection threshold (client sent bytes, backend silent)'], undefined, 'proxy'),
  row(100, ['CDN edge idle cut (100 s historically)'], Idle, 'client'),
  row(
    120,
    [
      'upstream connection-pool age cap of 120 s killing every WebSocket multiplexed on the pooled connection, all at once at the same wall-clock instant',
    ],
    Shared,
    'either',
  ),
  row(120, ['CDN edge idle cut (120 s today at one large CDN)'], Idle, 'client'),
  row(180, ['Traefik idle timeout default (180 s)'], Idle, 'either'),
  row(240, ['ingress-nginx worker shutdown timeout (240 s) after a reload'], Shared, 'either'),
  row(240, ['Azure Basic Load Balancer idle timeout (4 min, closes without RST)'], Idle, 'either'),
  row(300, ['Envoy stream idle timeout default (300 s)'], Idle, 'either'),
  row(300, ['a 5-minute TLS half-zombie / stuck grace'], undefined, 'proxy'),
  row(3600, ['Envoy/Istio TCP idle timeout default (1 h)', 'a 1 h socket timeout'], Idle, 'either'),
]);

/** Half-width (s) within which a measured value matches a row: its range plus max(1 s, 3 %) of slack. */
export function matchToleranceSeconds(f: Fingerprint): number {
  return (f.toleranceSeconds ?? 0) + Math.max(1, 0.03 * f.seconds);
}

/**
 * Who closed, as the culprit filter needs it: a peer side, or Sightline itself (a local decision:
 * then only `proxy` rows apply, after Sightline's own settings), or not known (no filter).
 */
export type ClosedBy = 'client' | 'backend' | 'sightline' | 'unknown';

function sideFits(f: Fingerprint, by: ClosedBy): boolean {
  if (by === 'unknown' || f.side === 'proxy') return true;
  if (by === 'sightline') return false;
  return f.side === 'either' || f.side === by;
}

/**
 * A row fits the shape and timer when its family could have made it: shared timers only for
 * wall-clock-aligned closes; for age-clustered ones idle timers when idle-at-close ≈ the age,
 * age deadlines when traffic still flowed, either when unknown. Lower ranks come first.
 */
function rank(f: Fingerprint, shape: PatternShape, timer: PatternTimer): number {
  if (shape === 'wall-clock-aligned') return f.kind === Shared ? 0 : 1;
  if (f.kind === Shared) return -1;
  if (timer === 'idle-timeout' && f.kind === Age) return -1;
  if (timer === 'age-cap' && f.kind === Idle) return -1;
  const fits = (timer === 'idle-timeout' && f.kind === Idle) || (timer === 'age-cap' && f.kind === Age);
  return fits ? 0 : f.kind === undefined ? 1 : 2;
}

/**
 * Known culprits for a pattern at `seconds`: the matching rows whose family fits the shape and
 * timer (rank above) and whose side fits who closed, best fits first. Empty when nothing fits.
 */
export function culpritsFor(
  seconds: number,
  shape: PatternShape,
  timer: PatternTimer = 'unknown',
  by: ClosedBy = 'unknown',
): string[] {
  const rows = FINGERPRINTS.filter((f) => Math.abs(seconds - f.seconds) <= matchToleranceSeconds(f) && sideFits(f, by));
  const ordered = rows
    .map((f) => ({ f, r: rank(f, shape, timer) }))
    .filter((o) => o.r >= 0)
    .map((o, i) => ({ ...o, r: o.r * 1000 + i }))
    .sort((a, b) => a.r - b.r);
  return [...new Set(ordered.flatMap((o) => o.f.culprits))];
}

/** Who closed, from a pattern's initiator and whether Sightline decided. */
export function closedBy(initiator: string, local: boolean): ClosedBy {
  if (local || initiator === 'proxy') return 'sightline';
  return initiator === 'client' || initiator === 'backend' ? initiator : 'unknown';
}

/** Distance (s) from a row's range to the histogram edges that bracket it. */
function bracketPad(f: Fingerprint): number {
  if (f.toleranceSeconds !== undefined) return 0.5;
  return f.seconds < 20 ? 1 : f.seconds < 1000 ? 2 : 10;
}

const GENERAL_EDGES = [0.1, 0.5, 1, 5, 600, 1800, 7200, 86_400];

/**
 * Histogram bucket edges (s) for connection duration and idle-at-close: an edge just below and
 * just above every fingerprint (28/32 around 30 s, 118/122 around 120 s, ...), so one bucket
 * isolates each of them, plus a few general edges. Sorted, strictly increasing.
 */
export const FINGERPRINT_BUCKETS_SECONDS: readonly number[] = Object.freeze(
  [
    ...new Set([
      ...GENERAL_EDGES,
      ...FINGERPRINTS.flatMap((f) => {
        const half = (f.toleranceSeconds ?? 0) + bracketPad(f);
        return [f.seconds - half, f.seconds + half];
      }),
    ]),
  ].sort((a, b) => a - b),
);
