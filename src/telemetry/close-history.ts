/**
 * The recent past the status page draws (DESIGN §1 L5, fed by the close event): closes per
 * minute by reason and by initiator, per route a histogram of age at close per minute on a
 * log scale, and the last closes themselves (the record a person opens to see one connection's
 * end). Everything is bounded: 15 one-minute buckets, routes from the config (at most
 * `MAX_ROUTES` tracked), `RECORDS` close records.
 */
import type { CloseEvent } from '../core/channels.js';
import { correlationFields } from './correlation.js';

export const BUCKET_MS = 60_000;
/** Minutes kept: the window the page calls "recent". */
export const KEEP_BUCKETS = 15;
export const WINDOW_MS = BUCKET_MS * KEEP_BUCKETS;

/**
 * Age bins, 10 per decade from 10 ms to 10^5 s (about 28 h): the edges 25.1 / 31.6 s put a
 * 30 s timer in one bar, and an hour-long WebSocket still has its own. Younger ages fall in the
 * first bin, older ones in the last.
 */
const PER_DECADE = 10;
const FIRST_EXP = -2;
const DECADES = 7;
export const AGE_BINS = PER_DECADE * DECADES;
/** Bin edges in milliseconds (AGE_BINS + 1 of them), rounded to 0.1 ms. */
export const AGE_EDGES_MS: readonly number[] = Object.freeze(
  Array.from({ length: AGE_BINS + 1 }, (_, i) => Math.round(10 ** (FIRST_EXP + i / PER_DECADE) * 1e4) / 10),
);

/** The bin of an age (ms): one log10, then a step against the (rounded) edges the API reports. */
export function ageBin(ms: number): number {
  if (!(ms > 0)) return 0;
  let i = Math.floor((Math.log10(ms / 1000) - FIRST_EXP) * PER_DECADE);
  i = i < 0 ? 0 : i >= AGE_BINS ? AGE_BINS - 1 : i;
  if (i > 0 && ms < AGE_EDGES_MS[i]!) i--;
  else if (i < AGE_BINS - 1 && ms >= AGE_EDGES_MS[i + 1]!) i++;
  return i;
}

/** Who a connection is, in the admin API's words (open ones add their live state, closed ones how they ended). */
export interface ConnectionIdentity {
  readonly id: number;
  readonly route: string | null;
  readonly client: string;
  readonly clientPort: number;
  readonly listenPort: number;
  readonly sni: string | null;
  readonly target: string | null;
  /** Cross-hop correlation (issue 14): this connection's unique id and the previous hop's. */
  readonly uniqueId: string | null;
  readonly previousHopId: string | null;
}

/** One ended connection as the page shows it. Times are the proxy clock's (epoch ms). */
export interface CloseRecord extends ConnectionIdentity {
  readonly mode: string | null;
  readonly reason: string;
  readonly initiator: string;
  readonly firstSide: string | null;
  readonly endKind: string;
  readonly phase: string;
  readonly openedAt: number;
  readonly closedAt: number;
  readonly durationMs: number;
  readonly idleAtCloseMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly error: string | null;
  /** The configuration generation it was routed under. */
  readonly configGeneration: number;
  /** Moments of its life that the connection record carries (ms since epoch), in order. */
  readonly milestones: ReadonlyArray<{ readonly name: string; readonly at: number }>;
  readonly http?: { readonly requests: number };
  readonly websocket?: Readonly<Record<string, unknown>>;
}

export interface RecentCloses {
  readonly bucketMs: number;
  /** The proxy clock's now (epoch ms): the window ends at its minute. */
  readonly now?: number;
  readonly buckets: Array<{ start: number; byReason: Record<string, number>; byInitiator: Record<string, number> }>;
}

export interface CloseAges {
  readonly windowMs: number;
  readonly edgesMs: readonly number[];
  readonly routes: Array<{ route: string; total: number; counts: number[] }>;
}

/** Fields of the connection record beyond ConnectionView that name moments (0: never happened). */
interface MomentFields {
  readonly connectStart?: number;
  readonly backendConnectedAt?: number;
  readonly warnedAt?: number;
  readonly halfClosedAt?: number;
  /** net/story.ts: clock readings, -1 when never reached. */
  readonly story?: {
    readonly configGeneration: number;
    readonly hello?: number;
    readonly routed?: number;
    readonly c2bFirst?: number;
    readonly c2bLast?: number;
    readonly b2cFirst?: number;
    readonly b2cLast?: number;
  };
}

/** The moments of a connection's life its record carries, in time order, ending with the close. */
export function milestonesOf(
  conn: CloseEvent['conn'] & MomentFields,
  closedAt: number | null,
  lastActivity: number | null,
): Array<{ name: string; at: number }> {
  const out: Array<{ name: string; at: number }> = [{ name: 'accepted', at: conn.incomingStartTime }];
  const add = (name: string, at: number | undefined): void => {
    if (typeof at === 'number' && at > 0) out.push({ name, at });
  };
  const m = conn.story;
  if (m !== undefined) {
    add('ClientHello parsed', m.hello);
    add('routed', m.routed);
    add('first byte client → backend', m.c2bFirst);
    add('first byte backend → client', m.b2cFirst);
    add('last byte client → backend', m.c2bLast);
    add('last byte backend → client', m.b2cLast);
  }
  add('backend connect started', conn.connectStart);
  add('backend connected', conn.backendConnectedAt);
  add('idle warning', conn.warnedAt);
  add('half-closed', conn.halfClosedAt);
  if (lastActivity !== null) add('last activity', lastActivity);
  if (closedAt !== null) add('closed', closedAt);
  return out.sort((a, b) => a.at - b.at);
}

interface Minute {
  start: number;
  byReason: Record<string, number>;
  byInitiator: Record<string, number>;
  /** route → age bin counts */
  ages: Map<string, Uint32Array>;
}

export const RECORDS = 200;
const MAX_ROUTES = 1024;

export class CloseHistory {
  readonly #minutes: Minute[] = [];
  readonly #records: CloseRecord[] = [];
  #head = 0;

  /** Count one close that happened at `now` (proxy clock). */
  record(e: CloseEvent, now: number): void {
    const start = Math.floor(now / BUCKET_MS) * BUCKET_MS;
    let m = this.#minutes[this.#minutes.length - 1];
    if (m === undefined || m.start !== start) {
      this.#minutes.push((m = { start, byReason: {}, byInitiator: {}, ages: new Map() }));
      if (this.#minutes.length > KEEP_BUCKETS) this.#minutes.shift();
    }
    m.byReason[e.reason] = (m.byReason[e.reason] ?? 0) + 1;
    m.byInitiator[e.initiator] = (m.byInitiator[e.initiator] ?? 0) + 1;
    const c = e.conn;
    const route = c.routeName;
    if (route !== null) {
      let counts = m.ages.get(route);
      if (counts === undefined && m.ages.size < MAX_ROUTES) m.ages.set(route, (counts = new Uint32Array(AGE_BINS)));
      if (counts !== undefined) counts[ageBin(e.durationMs)]!++;
    }
    const closedAt = c.incomingStartTime + e.durationMs;
    const rec: CloseRecord = {
      id: c.id,
      route,
      client: c.remoteIP,
      clientPort: c.remotePort,
      listenPort: c.listenPort,
      sni: c.serverName,
      target: e.target,
      ...correlationFields(c),
      mode: c.mode,
      reason: e.reason,
      initiator: e.initiator,
      firstSide: e.firstSide,
      endKind: e.endKind,
      phase: e.phase,
      openedAt: c.incomingStartTime,
      closedAt,
      durationMs: e.durationMs,
      idleAtCloseMs: e.idleAtCloseMs,
      bytesIn: e.bytesFromClient,
      bytesOut: e.bytesToClient,
      error: e.error,
      configGeneration: e.configGeneration,
      milestones: milestonesOf(c, closedAt, closedAt - e.idleAtCloseMs),
      ...(e.http ? { http: { requests: e.http.requests } } : {}),
      ...(e.websocket ? { websocket: { ...e.websocket } } : {}),
    };
    if (this.#records.length < RECORDS) this.#records.push(rec);
    else {
      this.#records[this.#head] = rec;
      this.#head = (this.#head + 1) % RECORDS;
    }
  }

  #recent(now: number): Minute[] {
    const from = Math.floor(now / BUCKET_MS) * BUCKET_MS - WINDOW_MS;
    return this.#minutes.filter((m) => m.start > from);
  }

  /** Closes per minute over the window, oldest first (minutes without closes are absent). */
  closesPerMinute(now: number): RecentCloses {
    return {
      bucketMs: BUCKET_MS,
      now,
      buckets: this.#recent(now).map((m) => ({
        start: m.start,
        byReason: { ...m.byReason },
        byInitiator: { ...m.byInitiator },
      })),
    };
  }

  /** Per route (or one route), how old connections were when they closed over the window. */
  closeAges(now: number, route?: string): CloseAges {
    const sums = new Map<string, number[]>();
    for (const m of this.#recent(now)) {
      for (const [r, counts] of m.ages) {
        if (route !== undefined && r !== route) continue;
        let s = sums.get(r);
        if (s === undefined) sums.set(r, (s = new Array<number>(AGE_BINS).fill(0)));
        for (let i = 0; i < AGE_BINS; i++) s[i]! += counts[i]!;
      }
    }
    const routes = [...sums]
      .map(([r, counts]) => ({ route: r, total: counts.reduce((a, b) => a + b, 0), counts }))
      .sort((a, b) => (a.route < b.route ? -1 : 1));
    return { windowMs: WINDOW_MS, edgesMs: AGE_EDGES_MS, routes };
  }

  /** The last closes, newest first, optionally of one route or one connection id. */
  records(filter: { route?: string; id?: number; limit: number }): CloseRecord[] {
    const n = this.#records.length;
    const out: CloseRecord[] = [];
    for (let k = 1; k <= n && out.length < filter.limit; k++) {
      const r = this.#records[(this.#head - k + n) % n]!;
      if (filter.route !== undefined && r.route !== filter.route) continue;
      if (filter.id !== undefined && r.id !== filter.id) continue;
      out.push(r);
    }
    return out;
  }
}
