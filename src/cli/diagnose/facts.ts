/**
 * What `sightline diagnose` knows about a running proxy, whichever way it was read (the admin API
 * or Prometheus): per route, the standing disconnect patterns, the closes by reason and initiator,
 * and the duration and idle-at-close histograms. The analysis reads only this.
 */

/** Cumulative bucket counts per initiator, `le` ascending (seconds; the last is Infinity). */
export type Histogram = ReadonlyMap<string, ReadonlyArray<{ readonly le: number; readonly count: number }>>;

export interface PatternFact {
  readonly kind: string;
  readonly periodMs: number;
  /** Absent when the source does not say (Prometheus: the gauge carries only the period). */
  readonly spreadMs?: number;
  readonly count?: number;
  readonly timer?: string;
  readonly initiator?: string;
  readonly local?: boolean;
  readonly reasons?: Readonly<Record<string, number>>;
  readonly culprits?: readonly string[];
  readonly summary?: string;
  readonly firstSeen?: number;
  readonly lastSeen?: number;
  /** Prometheus: the instances whose detector reports it. */
  readonly instances?: readonly string[];
  /**
   * Found in the duration histogram summed over several instances, none of whose detectors had
   * enough closes to see it (the closes of a fleet-wide timer spread over the replicas).
   */
  readonly fleet?: boolean;
  /** Sightline's own setting that decided, the age measured when the period is that setting's value. */
  readonly setting?: string | null;
  readonly measuredMs?: number | null;
  /** When a per-connection and a shared timer both fit: the observation that would decide. */
  readonly undecided?: string | null;
  /** No known product default at the period: the timers configured on the route. */
  readonly timersOnPath?: readonly string[];
}

export interface CloseCount {
  readonly reason: string;
  readonly initiator: string;
  readonly count: number;
}

export interface RouteFacts {
  readonly route: string;
  /** Open connections now (undefined: unknown). */
  readonly active?: number;
  readonly patterns: readonly PatternFact[];
  readonly closes: readonly CloseCount[];
  readonly duration: Histogram;
  readonly idle: Histogram;
  /** Prometheus: the duration histogram of each instance (by its `instance` label). */
  readonly durationByInstance?: ReadonlyMap<string, Histogram>;
}

export interface Facts {
  readonly source: { readonly kind: 'admin' | 'prometheus'; readonly url: string };
  /** Prometheus: the range the counts cover (e.g. "1h"); admin: counts since the proxy started. */
  readonly window?: string;
  readonly version?: string;
  readonly uptimeSeconds?: number;
  readonly routes: readonly RouteFacts[];
}

/** The bucket (lo, hi] holding `seconds`, from the edges of any initiator. */
export function bucketAround(h: Histogram, seconds: number): { lo: number; hi: number } | null {
  for (const rows of h.values()) {
    let lo = 0;
    for (const r of rows) {
      if (r.le >= seconds) return { lo, hi: r.le };
      lo = r.le;
    }
  }
  return null;
}

/** Cumulative count at edge `le` for one initiator's rows (0 below the first edge). */
function cumulative(rows: ReadonlyArray<{ le: number; count: number }>, le: number): number {
  let c = 0;
  for (const r of rows) {
    if (r.le > le + 1e-9) break;
    c = r.count;
  }
  return c;
}

/** Closes with a value in (lo, hi], summed over initiators (or one). */
export function countBetween(h: Histogram, lo: number, hi: number, initiator?: string): number {
  let n = 0;
  for (const [who, rows] of h) {
    if (initiator !== undefined && who !== initiator) continue;
    n += cumulative(rows, hi) - (lo <= 0 ? 0 : cumulative(rows, lo));
  }
  return Math.max(0, n);
}

/** All closes the histogram counted. */
export function histogramTotal(h: Histogram): number {
  let n = 0;
  for (const rows of h.values()) n += rows[rows.length - 1]?.count ?? 0;
  return n;
}

/** Bucket edges shared by the histogram (ascending, finite ones only). */
export function histogramEdges(h: Histogram): number[] {
  const edges = new Set<number>();
  for (const rows of h.values()) for (const r of rows) if (Number.isFinite(r.le)) edges.add(r.le);
  return [...edges].sort((a, b) => a - b);
}

/** Build a Histogram from (initiator, le, cumulative count) samples. */
export function histogramOf(samples: Iterable<{ initiator: string; le: number; count: number }>): Histogram {
  const by = new Map<string, Map<number, number>>();
  for (const s of samples) {
    let m = by.get(s.initiator);
    if (m === undefined) by.set(s.initiator, (m = new Map()));
    m.set(s.le, (m.get(s.le) ?? 0) + s.count);
  }
  const out = new Map<string, Array<{ le: number; count: number }>>();
  for (const [who, m] of by)
    out.set(
      who,
      [...m].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le),
    );
  return out;
}
