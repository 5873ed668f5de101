/**
 * Per-client-IP state for admission: concurrent connections and a sliding one-minute rate.
 * Bounded (DESIGN §2.8, compat §6.5): entries with no open connection expire after two minutes,
 * and when the map reaches its cap the oldest idle entries are evicted first.
 *
 * The rate uses the two-window estimate (previous minute weighted by how much of it still lies
 * in the sliding minute, plus the current minute): O(1) memory per IP, exact at window edges to
 * within one window's skew, the same scheme large rate limiters use.
 */

const WINDOW_MS = 60_000;

interface IpEntry {
  active: number;
  windowStart: number;
  current: number;
  previous: number;
  lastSeen: number;
}

export class IpTracker {
  readonly #entries = new Map<string, IpEntry>();
  readonly #cap: number;
  #evicted = 0;

  constructor(cap = 65_536) {
    this.#cap = cap;
  }

  get size(): number {
    return this.#entries.size;
  }
  /** Entries dropped to stay under the cap (a flood of distinct addresses). */
  get evicted(): number {
    return this.#evicted;
  }

  active(ip: string): number {
    return this.#entries.get(ip)?.active ?? 0;
  }

  /** Record a connection attempt at `now`; returns the sliding-minute rate including it. */
  attempt(ip: string, now: number): number {
    const e = this.#entry(ip, now);
    this.#roll(e, now);
    e.current++;
    e.lastSeen = now;
    const weight = 1 - (now - e.windowStart) / WINDOW_MS;
    return Math.floor(e.previous * weight) + e.current;
  }

  acquire(ip: string, now: number): void {
    const e = this.#entry(ip, now);
    e.active++;
    e.lastSeen = now;
  }

  release(ip: string, now: number): void {
    const e = this.#entries.get(ip);
    if (e === undefined) return;
    e.active = Math.max(0, e.active - 1);
    e.lastSeen = now;
  }

  /** Drop entries with nothing open and no attempt in the last two windows. */
  expire(now: number): number {
    let n = 0;
    for (const [ip, e] of this.#entries) {
      if (e.active === 0 && now - e.lastSeen >= 2 * WINDOW_MS) {
        this.#entries.delete(ip);
        n++;
      }
    }
    return n;
  }

  #entry(ip: string, now: number): IpEntry {
    let e = this.#entries.get(ip);
    if (e === undefined) {
      if (this.#entries.size >= this.#cap) this.#evict(now);
      e = { active: 0, windowStart: now, current: 0, previous: 0, lastSeen: now };
      this.#entries.set(ip, e);
    }
    return e;
  }

  #roll(e: IpEntry, now: number): void {
    const elapsed = now - e.windowStart;
    if (elapsed < WINDOW_MS) return;
    e.previous = elapsed < 2 * WINDOW_MS ? e.current : 0;
    e.current = 0;
    e.windowStart = now - (elapsed % WINDOW_MS);
  }

  #evict(now: number): void {
    this.expire(now);
    if (this.#entries.size < this.#cap) return;
    // Oldest first (Map keeps insertion order); never drop an IP with open connections.
    const target = Math.floor(this.#cap * 0.9);
    for (const [ip, e] of this.#entries) {
      if (this.#entries.size <= target) break;
      if (e.active === 0) {
        this.#entries.delete(ip);
        this.#evicted++;
      }
    }
  }
}
