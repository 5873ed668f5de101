/**
 * The in-process disconnect-pattern detector (DESIGN §3, reference/disconnect-fingerprints.md):
 * fed one record per close, it notices when a route's connections die at a fixed age or at fixed
 * wall-clock instants and names the usual culprits from the fingerprint table. Pure: no timers,
 * no I/O; time comes from the samples (`at`) and from `snapshot(now)`.
 *
 * State: per route a ring of the last `windowSize` closes (typed arrays, grown on demand), at most
 * `maxRoutes` routes (the least recently updated is evicted). Closes younger than `minDurationMs`
 * are dropped on arrival: churn would flush the ring and they carry no fingerprint. A route is
 * analysed every max(minCount/2, n/16) stored closes, so the cost is amortised O(log n) per close.
 *
 * Age-clustered (a per-connection timer, pattern-age-cluster.ts): sort the ring's ages, slide a window of width
 * max(500 ms, 2 %) to find the densest group. It is a pattern when it has ≥ minCount closes, is
 * a spike (a smooth lifetime distribution puts ~1/20 of the closes within ±10 widths in one width):
 * either half the ring and minCount + 3 closes per close in its ±10-width neighbourhood, or
 * ≥ 2·minCount closes, as many as the neighbourhood and 3× either side of it (a minority on a busy
 * route; a one-sided neighbourhood is an edge of the distribution, not a spike); and the
 * connections did not all start together (the densest 1 s of start times holds at most half of
 * them; otherwise it is one burst opened and closed together). Groups starting within a width of
 * minDurationMs are skipped: the tail of short-lived traffic piles up there. Proxy kills land up
 * to one sweep period late, so the closes its sweep decided are also grouped with `localSlackMs` added to the
 * width.
 * Idle-at-close names the timer: most closes silent for their whole life (idle ≈ age) →
 * 'idle-timeout'; few → 'age-cap' (something flowed just before the kill); else 'unknown'.
 *
 * Wall-clock-aligned (a shared timer, pattern-bursts.ts): sort close instants and slide a 1 s window over them. A
 * burst is a window of ≥ 3 closes that is improbable (Poisson tail ≤ 3e-5) for the close rate of
 * both the 5 s and the 30 s around it: a kill is sharp, so busy traffic and smooth close-rate peaks
 * (clients that connect together, cron jobs) make no bursts. A burst is mixed when its connections
 * are of different ages (further apart than one per-connection timer spreads them, 1–2 s, once the
 * youngest and the oldest are set aside, from 5 closes up), uniform otherwise. It is a pattern when ≥ 3 bursts
 * (not necessarily adjacent: pooled connections interleave) fall on an arithmetic progression
 * (every pair of bursts, 1, 2 or 3 periods apart, seeds one; one missing slot in a row is allowed,
 * 2/3 of the slots must hold a burst), each interval within max(1 s, 5 %) of the median, with
 * ≥ minCount closes in all; the longest progression wins; period = the median interval.
 * Which timer: a mixed burst, or uniform bursts of different ages (the first kill finds
 * connections younger than the period), can only be a shared timer: wall-clock-aligned, and it
 * stays so while the progression stands. Uniform bursts all of one age A close to the period
 * (clients that reconnect at once after each kill) fit a per-connection timer at A just as well:
 * reported as an age cluster saying which observation would decide. Uniform bursts far younger
 * than the period are groups opened together (batch jobs), not a timer on the path.
 *
 * A pattern stands until no close has supported it for max(10 × period, 10 min); observe() returns
 * a pattern only when it first appears or its period moves beyond its tolerance.
 *
 * Naming (pattern-naming.ts): who closed, culprits that fit the timer family and that side, and
 * for Sightline's own kills the setting (from `timers`, the configured timers per route) first.
 * Abnormal-reason findings (abnormal.ts) come from every close, whatever its age.
 */
import { AbnormalTracker } from './abnormal.js';
import type { ConfiguredTimer } from './configured-timers.js';
import type { PatternTimer } from './fingerprints.js';
import { findAgeCluster, type AgeClusterParams } from './pattern-age-cluster.js';
import { fmtAt, namePattern, topReason, type Measured } from './pattern-naming.js';
import { BURST_MIN_AGE_SPREAD_MS, MIN_PERIOD_MS, bestChain, findBursts } from './pattern-bursts.js';
import { collectMembers, overlap, timerOfSilence } from './pattern-members.js';
import { Ring, ageTolerance, periodTolerance, swept, touchRoute } from './pattern-ring.js';
import type { CloseSample, DetectedPattern, PatternDetectorOptions } from './pattern-types.js';

export type { CloseSample, DetectedPattern, PatternDetectorOptions, PatternKind } from './pattern-types.js';

const NONE: readonly DetectedPattern[] = Object.freeze([]);
const TEN_MINUTES_MS = 600_000;
/** Uniform bursts of age A every P fit prompt reconnects when P − A (the reconnect delay) is within this. */
const promptReconnect = (p: number): number => Math.max(3_000, 0.2 * p);
const MAX_BURSTS = 64;

const expiryMs = (p: DetectedPattern): number => Math.max(10 * p.periodMs, TEN_MINUTES_MS);

interface Standing {
  pattern: DetectedPattern;
  lastSeen: number;
}

interface RouteState {
  readonly ring: Ring;
  sinceAnalysis: number;
  age: Standing | null;
  aligned: Standing | null;
}

/** A progression of bursts and what it says about the timer. */
interface Alignment {
  readonly measured: Measured;
  readonly inBursts: (k: number) => boolean;
  /** 'shared': only a shared timer explains it; 'undecided': a per-connection timer at `ageMs` fits too. */
  readonly verdict: 'shared' | 'undecided';
  readonly ageMs: number;
  readonly ageSpreadMs: number;
}

const NO_TIMERS: readonly ConfiguredTimer[] = Object.freeze([]);

export class PatternDetector {
  readonly #windowSize: number;
  readonly #minCount: number;
  readonly #maxRoutes: number;
  readonly #minDurationMs: number;
  readonly #localSlackMs: number;
  /** Insertion order is update order: the first key is the least recently updated route. */
  readonly #routes = new Map<string, RouteState>();
  readonly #abnormal: AbnormalTracker;
  #timers: ReadonlyMap<string, readonly ConfiguredTimer[]>;
  /** Settings and scratch arrays of the age-cluster analysis (pattern-age-cluster.ts). */
  readonly #params: AgeClusterParams;

  constructor(opts: PatternDetectorOptions = {}) {
    this.#minCount = Math.max(3, Math.floor(opts.minCount ?? 8));
    this.#windowSize = Math.max(this.#minCount, Math.floor(opts.windowSize ?? 256));
    this.#maxRoutes = Math.max(1, Math.floor(opts.maxRoutes ?? 1024));
    this.#minDurationMs = Math.max(0, opts.minDurationMs ?? 1_000);
    this.#localSlackMs = Math.max(0, opts.localSlackMs ?? 0);
    this.#timers = opts.timers ?? new Map();
    this.#abnormal = new AbnormalTracker(this.#maxRoutes);
    this.#params = {
      minCount: this.#minCount,
      minDurationMs: this.#minDurationMs,
      localSlackMs: this.#localSlackMs,
      a: new Float64Array(this.#windowSize),
      b: new Float64Array(this.#windowSize),
    };
  }

  /** Sightline's own timers per route (configured-timers.ts), replaced on every config reload. */
  setTimers(timers: ReadonlyMap<string, readonly ConfiguredTimer[]>): void {
    this.#timers = timers;
  }

  /** Number of routes with state (bounded by maxRoutes). */
  get routes(): number {
    return this.#routes.size;
  }

  /** Closes currently held for `route` (never more than windowSize). */
  held(route: string): number {
    return this.#routes.get(route)?.ring.length ?? 0;
  }

  /** Feed one close; returns the patterns that became detected (new, or changed period) because of it. */
  observe(s: CloseSample): readonly DetectedPattern[] {
    if (!Number.isFinite(s.at) || !Number.isFinite(s.durationMs)) return NONE;
    const timers = this.#timers.get(s.route) ?? NO_TIMERS;
    const abnormal = this.#abnormal.observe(s, timers);
    const out: DetectedPattern[] = [];
    if (s.durationMs >= this.#minDurationMs) {
      const st = touchRoute(this.#routes, s.route, this.#maxRoutes, () => ({
        ring: new Ring(this.#windowSize),
        sinceAnalysis: 0,
        age: null,
        aligned: null,
      }));
      st.ring.push(s);
      const age = st.age;
      if (age !== null && s.at - age.lastSeen <= expiryMs(age.pattern)) {
        const tol = ageTolerance(age.pattern.measuredMs ?? age.pattern.periodMs) + (swept(s) ? this.#localSlackMs : 0);
        if (Math.abs(s.durationMs - (age.pattern.measuredMs ?? age.pattern.periodMs)) <= tol)
          age.lastSeen = Math.max(age.lastSeen, s.at);
      }
      const every = Math.max(Math.ceil(this.#minCount / 2), Math.ceil(st.ring.length / 16));
      // A new abnormal-reason finding waits for the periodic analyses of the same closes: when an
      // age cluster names its reason (silent WebSocket clients cut at Sightline's heartbeat setting),
      // that finding stands instead of a transient "abnormal closes" one.
      if ((++st.sinceAnalysis >= every || abnormal !== null) && st.ring.length >= this.#minCount) {
        st.sinceAnalysis = 0;
        this.#analyse(s.route, st, s.at, timers, out);
      }
    }
    if (abnormal !== null && !this.#explained(abnormal)) out.unshift(abnormal);
    return out.length === 0 ? NONE : out;
  }

  #analyse(
    route: string,
    st: RouteState,
    now: number,
    timers: readonly ConfiguredTimer[],
    out: DetectedPattern[],
  ): void {
    const ring = st.ring;
    const w = this.#alignment(route, ring, timers);
    let a = findAgeCluster(this.#params, route, ring, timers);
    if (w !== null) {
      // Once a shared timer has shown itself, later bursts of one age (prompt reconnects) keep it.
      const cur = st.aligned;
      const shared =
        w.verdict === 'shared' ||
        (cur !== null &&
          now - cur.lastSeen <= expiryMs(cur.pattern) &&
          Math.abs(cur.pattern.periodMs - w.measured.periodMs) <= periodTolerance(w.measured.periodMs));
      if (shared) {
        // The age cluster a little below the period is the same closes: the shared timer explains
        // it. Not Sightline's own kills: they land on its sweep's ticks, and their reason names the timer.
        const own = a !== null && a.measured.members.local * 2 > a.measured.members.count;
        if (a !== null && !own && overlap(ring, a.member, w.inBursts) * 2 >= a.measured.members.count) a = null;
        // So is an age cluster reported while the evidence was undecided.
        const age = st.age?.pattern;
        if (
          age !== undefined &&
          age.undecided !== null &&
          Math.abs(w.measured.periodMs - age.periodMs) <=
            promptReconnect(w.measured.periodMs) + periodTolerance(age.periodMs)
        )
          st.age = null;
        const p = namePattern(w.measured);
        st.aligned = this.#merge(st.aligned, p, now, periodTolerance(p.periodMs), out);
      } else {
        const undecided =
          `undecided: this fits a per-connection timer at ${fmtAt(w.ageMs)} s of age and a shared timer every ${fmtAt(w.measured.periodMs)} s alike ` +
          `(every burst so far held connections of one age: the clients reconnect at once); a burst at the next multiple of ${fmtAt(w.measured.periodMs)} s ` +
          `holding connections younger than ${fmtAt(w.measured.periodMs)} s would make it a wall-clock (shared) timer, a connection opened between bursts ` +
          `and closed at ${fmtAt(w.ageMs)} s of age a per-connection timer`;
        if (a !== null && overlap(ring, a.member, w.inBursts) * 2 >= a.measured.members.count)
          a = { ...a, measured: { ...a.measured, undecided } };
        else if (a === null) {
          const mem = collectMembers(ring, w.inBursts);
          a = {
            member: w.inBursts,
            measured: {
              ...w.measured,
              kind: 'age-clustered',
              periodMs: w.ageMs,
              spreadMs: w.ageSpreadMs,
              timer: timerOfSilence(mem),
              members: mem,
              bursts: undefined,
              undecided,
            },
          };
        }
      }
    }
    if (a !== null) {
      const p = namePattern(a.measured);
      st.age = this.#merge(st.age, p, now, Math.max(ageTolerance(p.periodMs), p.spreadMs), out);
    }
  }

  /** Patterns currently standing at `now` (expired ones are dropped). */
  snapshot(now: number): readonly DetectedPattern[] {
    const out: DetectedPattern[] = [];
    for (const st of this.#routes.values()) {
      st.age = this.#live(st.age, now, out);
      st.aligned = this.#live(st.aligned, now, out);
    }
    const abnormal: DetectedPattern[] = [];
    this.#abnormal.snapshot(now, abnormal);
    for (const p of abnormal) if (!this.#explained(p)) out.push(p);
    return out;
  }

  /** An abnormal-reason finding whose reason a standing periodic pattern of the route already names. */
  #explained(p: DetectedPattern): boolean {
    const st = this.#routes.get(p.route);
    if (st === undefined) return false;
    const top = topReason(p.reasons);
    return [st.age, st.aligned].some(
      (s) => s !== null && s.lastSeen >= p.firstSeen - expiryMs(s.pattern) && topReason(s.pattern.reasons) === top,
    );
  }

  #live(s: Standing | null, now: number, out: DetectedPattern[]): Standing | null {
    if (s === null || now - s.lastSeen > expiryMs(s.pattern)) return null;
    if (s.pattern.lastSeen !== s.lastSeen) s.pattern = Object.freeze({ ...s.pattern, lastSeen: s.lastSeen });
    out.push(s.pattern);
    return s;
  }

  /** Fold a fresh detection into the standing one; report it when new or moved. */
  #merge(
    cur: Standing | null,
    found: DetectedPattern,
    now: number,
    tol: number,
    out: DetectedPattern[],
  ): Standing | null {
    if (now - found.lastSeen > expiryMs(found)) return cur; // stale closes still in the ring
    const alive = cur !== null && now - cur.lastSeen <= expiryMs(cur.pattern);
    if (alive && Math.abs(found.periodMs - cur.pattern.periodMs) <= tol) {
      const lastSeen = Math.max(cur.lastSeen, found.lastSeen);
      return {
        pattern: Object.freeze({ ...found, firstSeen: Math.min(cur.pattern.firstSeen, found.firstSeen), lastSeen }),
        lastSeen,
      };
    }
    out.push(found);
    return { pattern: found, lastSeen: found.lastSeen };
  }

  #alignment(route: string, ring: Ring, timers: readonly ConfiguredTimer[]): Alignment | null {
    const n = ring.length;
    const t = this.#params.a;
    for (let i = 0; i < n; i++) t[i] = ring.at[i]!;
    const ts = t.subarray(0, n).sort();
    if (ts[n - 1]! - ts[0]! < 2 * MIN_PERIOD_MS) return null;
    const bursts = findBursts(ring, ts, n, this.#localSlackMs);
    if (bursts.length < 3) return null;
    const b = bursts.slice(-MAX_BURSTS);
    const best = bestChain(b, this.#minCount);
    if (best === null) return null;
    const chain = best.chain.map((k) => b[k]!);
    // Uniform bursts of different ages: the first kill found connections younger than the rest.
    const uniformAges = chain
      .filter((x) => !x.mixed)
      .map((x) => x.medianAge)
      .sort((x, y) => x - y);
    const ageMs = uniformAges[uniformAges.length >> 1] ?? 0;
    const ageSpreadMs = uniformAges.length === 0 ? 0 : (uniformAges[uniformAges.length - 1]! - uniformAges[0]!) / 2;
    const shared =
      chain.some((x) => x.mixed) ||
      ageSpreadMs * 2 > ageTolerance(ageMs) + this.#localSlackMs + BURST_MIN_AGE_SPREAD_MS;
    // One age far below the period: groups opened together (batch jobs), not a timer on the path.
    if (!shared && best.period - ageMs > promptReconnect(best.period)) return null;
    const inBursts = (k: number): boolean => chain.some((r) => ring.at[k]! >= r.from && ring.at[k]! <= r.to);
    const mem = collectMembers(ring, inBursts);
    // A shared idle sweep only finds connections silent for a while; an age cap kills busy ones too.
    let quiet = 0;
    const floor = Math.max(2_000, 0.05 * best.period);
    for (let k = 0; k < n; k++) if (inBursts(k) && ring.idle[k]! >= floor) quiet++;
    const quietShare = quiet / mem.count;
    const timer: PatternTimer = quietShare >= 0.9 ? 'idle-timeout' : quietShare <= 0.6 ? 'age-cap' : 'unknown';
    const measured: Measured = {
      route,
      kind: 'wall-clock-aligned',
      periodMs: best.period,
      spreadMs: best.spread,
      timer,
      members: mem,
      timers,
      slackMs: this.#localSlackMs,
      bursts: best.chain.length,
    };
    return { measured, inBursts, verdict: shared ? 'shared' : 'undecided', ageMs, ageSpreadMs };
  }
}
