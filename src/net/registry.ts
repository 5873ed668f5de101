/**
 * The live connections of one proxy, counts per route, and termination statistics by reason and
 * initiator (including rejections at accept, which the reference never recorded). The sweep
 * samples socket byte counters to learn activity: no per-chunk work on the data path.
 */
import { CloseReason, Initiator } from '../core/close-reasons.js';
import type { Connection } from './connection.js';

export interface TerminationStats {
  /** reason → initiator → count */
  readonly byReason: Record<string, Record<string, number>>;
  readonly total: number;
}

export class ConnectionRegistry {
  readonly #conns = new Map<number, Connection>();
  readonly #byRoute = new Map<string, number>();
  readonly #terminations = new Map<CloseReason, Map<Initiator, number>>();
  #terminated = 0;
  #accepted = 0;
  #nextId = 1;

  nextId(): number {
    return this.#nextId++;
  }

  get size(): number {
    return this.#conns.size;
  }
  get accepted(): number {
    return this.#accepted;
  }

  add(conn: Connection): void {
    this.#conns.set(conn.id, conn);
    this.#accepted++;
  }

  /** Count the connection under its route (once routed). */
  assignRoute(conn: Connection): void {
    const name = conn.routeName;
    if (name !== null) this.#byRoute.set(name, (this.#byRoute.get(name) ?? 0) + 1);
  }

  remove(conn: Connection, reason: CloseReason, initiator: Initiator): void {
    if (!this.#conns.delete(conn.id)) return;
    const name = conn.routeName;
    if (name !== null) {
      const n = (this.#byRoute.get(name) ?? 1) - 1;
      if (n <= 0) this.#byRoute.delete(name);
      else this.#byRoute.set(name, n);
    }
    this.count(reason, initiator);
  }

  /** Count a termination (also used for rejections that never became a full record). */
  count(reason: CloseReason, initiator: Initiator): void {
    let m = this.#terminations.get(reason);
    if (m === undefined) this.#terminations.set(reason, (m = new Map()));
    m.set(initiator, (m.get(initiator) ?? 0) + 1);
    this.#terminated++;
  }

  /** Live map: callers must not mutate it (getConnections() hands out a copy). */
  get live(): ReadonlyMap<number, Connection> {
    return this.#conns;
  }

  /** An open connection by its numeric id or its unique id (admin look-ups); null when none. */
  find(id: number | string): Connection | null {
    if (typeof id === 'number') return this.#conns.get(id) ?? null;
    // A scan: operators close one connection at a time, the data path never asks.
    for (const c of this.#conns.values()) if (c.uniqueId === id) return c;
    return null;
  }

  /**
   * An operator closes one connection now (admin API, `proxy.closeConnection`): both sockets are
   * destroyed and it is recorded like any close (metric, access log, span) as `admin_closed`,
   * initiator proxy. Returns it, or null when none is open or its end is already decided.
   */
  closeById(id: number | string): Connection | null {
    const c = this.find(id);
    if (c === null || c.reason !== null) return null;
    c.close(CloseReason.AdminClosed, Initiator.Proxy);
    return c;
  }

  countOnRoute(name: string): number {
    return this.#byRoute.get(name) ?? 0;
  }

  byRoute(): Map<string, number> {
    return new Map(this.#byRoute);
  }

  terminationStats(): TerminationStats {
    const byReason: Record<string, Record<string, number>> = {};
    for (const [reason, m] of this.#terminations) byReason[reason] = Object.fromEntries(m);
    return { byReason, total: this.#terminated };
  }

  /**
   * Refresh one connection's `lastActivity` from its socket byte counters. Every byte forwarded
   * was read from one of the two sockets, so reads alone show activity in both directions; each
   * counter is a native call, read once per sample.
   */
  sampleOne(conn: Connection, now: number): void {
    const rc = conn.client.bytesRead;
    const b = conn.backend;
    const rb = b === null ? 0 : b.bytesRead;
    if (rc !== conn.clientBytesSeen || rb !== conn.backendBytesSeen) {
      conn.clientBytesSeen = rc;
      conn.backendBytesSeen = rb;
      conn.lastActivity = now;
    }
  }
}
