/**
 * Keep-alive upstream sockets for HTTP routes, one bounded pool per (route, backend host:port).
 *
 * - A request leases a socket: the most recently used idle one (LIFO keeps few sockets warm),
 *   else a new connection while the pool is under `maxSockets`, else it waits in FIFO order
 *   (the caller bounds the wait with `queueTimeout` and answers 503).
 * - Released sockets go back idle (at most `maxIdleSockets`), are closed after `idleTimeout`
 *   unused (below the backend's own keep-alive timeout, so the proxy closes first) and, when
 *   `maxLifetime` is set, are not reused past that age.
 * - A socket whose exchange became a WebSocket is detached: it leaves the pool for good, so no
 *   age or idle rule of the pool can ever close a live upgraded stream (compat §6 failure 2).
 *
 * Listeners are module-level functions reaching their `Upstream` through a symbol (DESIGN §2.5);
 * the leasing connection receives events through one shared handler object.
 */
import { channels, FaultSite } from '../core/channels.js';
import type { HttpOptions } from '../config/schema.js';
import type { Connection, ConnSocket } from '../net/connection.js';
import type { BackgroundService, ProxyContext } from '../net/context.js';
import { openBackendSocket, type ResolvedTarget } from '../net/upstream.js';
import { failConnection, guarded, publishInternalError } from '../net/mode.js';
import type { CompiledRoute } from '../routing/route-table.js';
import { Doubt, Pool, Upstream, kUp, type PoolStats, type UpSocket, type UpstreamHandler } from './upstream-lease.js';

export class UpstreamPools implements BackgroundService {
  readonly #ctx: ProxyContext;
  /** route → target host → target port → pool (no key string is built per request). */
  readonly #pools = new Map<CompiledRoute, Map<string, Map<number, Pool>>>();
  #lastSweep = 0;
  #closed = false;
  #created = 0;
  #reused = 0;
  #expired = 0;
  #detached = 0;
  readonly #discarded: Record<Doubt, number> = {
    unsolicited: 0,
    close_framed: 0,
    aborted: 0,
    bad_response: 0,
    early_response: 0,
    not_keep_alive: 0,
  };

  constructor(ctx: ProxyContext) {
    this.#ctx = ctx;
  }

  get #opts(): HttpOptions['upstream'] {
    return this.#ctx.options.http.upstream;
  }

  #pool(route: CompiledRoute, target: ResolvedTarget): Pool {
    let byHost = this.#pools.get(route);
    if (byHost === undefined) this.#pools.set(route, (byHost = new Map()));
    let byPort = byHost.get(target.host);
    if (byPort === undefined) byHost.set(target.host, (byPort = new Map()));
    let p = byPort.get(target.port);
    if (p === undefined) byPort.set(target.port, (p = new Pool(this, route, target, `${target.host}:${target.port}`)));
    return p;
  }

  #existing(route: CompiledRoute, target: ResolvedTarget): Pool | undefined {
    return this.#pools.get(route)?.get(target.host)?.get(target.port);
  }

  /** Every pool, for sweeps and stats. */
  *#all(): Generator<Pool> {
    for (const byHost of this.#pools.values()) for (const byPort of byHost.values()) yield* byPort.values();
  }

  /**
   * Lease a socket for `c`: an idle one (`connected`, usable at once), or a new one still
   * connecting (handler.ready follows, or handler.closed on failure), or 'queued' (handler.ready
   * follows when a socket frees up; the caller bounds the wait and calls cancel()).
   */
  acquire(
    c: Connection,
    route: CompiledRoute,
    target: ResolvedTarget,
    handler: UpstreamHandler,
    fresh = false,
  ): Upstream | 'queued' {
    const p = this.#pool(route, target);
    c.target = p.key; // the connection's most recent backend, for its close record
    const now = this.#ctx.clock.now();
    if (!fresh) {
      let up: Upstream | undefined;
      while ((up = p.idle.pop()) !== undefined) {
        if (this.#usable(up, now)) {
          this.#lease(up, c, handler);
          this.#reused++;
          return up;
        }
        this.#expired++;
        this.#discard(up);
      }
    }
    if (p.open < this.#opts.maxSockets) return this.#connect(p, c, handler, now);
    p.waiters.push({ c, handler });
    return 'queued';
  }

  /** Stop waiting for a socket (the caller timed out or went away). */
  cancel(c: Connection, route: CompiledRoute, target: ResolvedTarget): void {
    const p = this.#existing(route, target);
    if (p === undefined) return;
    const i = p.waiters.findIndex((w) => w.c === c);
    if (i !== -1) p.waiters.splice(i, 1);
  }

  /**
   * The exchange on `up` is over. `doubt` (or one the exchange recorded on the socket): it is
   * destroyed and counted. Otherwise it serves the next waiter or goes idle.
   */
  release(up: Upstream, doubt: Doubt | null): void {
    up.owner = null;
    up.handler = null;
    const why = up.doubt ?? doubt;
    up.doubt = null;
    if (why !== null && up.connected) this.#discarded[why]++;
    if (up.detached) return;
    const p = up.pool;
    up.uses++;
    const now = this.#ctx.clock.now();
    if (why !== null || this.#closed || !up.connected || !this.#usable(up, now)) {
      this.#discard(up);
      this.#serveWaiter(p, now);
      return;
    }
    const w = p.waiters.shift();
    if (w !== undefined) {
      this.#lease(up, w.c, w.handler);
      this.#reused++;
      // The waiter's code runs on the releasing connection's stack: its exception is its own.
      try {
        w.handler.ready(w.c, up);
      } catch (err) {
        failConnection(w.c, FaultSite.Pool, err, up.socket);
      }
      return;
    }
    if (p.idle.length >= this.#opts.maxIdleSockets) {
      this.#discard(up);
      return;
    }
    up.idleSince = now;
    p.idle.push(up);
  }

  /** The socket now carries an upgraded stream: it leaves the pool and its rules for good. */
  detach(up: Upstream): UpSocket {
    const s = up.socket;
    this.#forget(up);
    this.#detached++;
    s.removeListener('data', onUpData);
    s.removeListener('drain', onUpDrain);
    s.removeListener('end', onUpEnd);
    s.removeListener('error', onUpError);
    s.removeListener('close', onUpClose);
    s.removeListener('connect', onUpReady);
    s.removeListener('secureConnect', onUpReady);
    delete s[kUp];
    up.owner = null;
    up.handler = null;
    this.#serveWaiter(up.pool, this.#ctx.clock.now());
    return s;
  }

  /** Close idle sockets past idleTimeout or maxLifetime (at most every 250 ms). */
  sweep(now: number): void {
    if (now - this.#lastSweep < 250) return;
    this.#lastSweep = now;
    try {
      this.#sweepPools(now);
    } catch (err) {
      publishInternalError(FaultSite.Pool, null, err, this.#ctx.proxyId);
    }
  }

  #sweepPools(now: number): void {
    for (const p of this.#all()) {
      for (let i = p.idle.length - 1; i >= 0; i--) {
        const up = p.idle[i]!;
        if (!this.#usable(up, now)) {
          p.idle.splice(i, 1);
          this.#expired++;
          this.#discard(up);
        }
      }
      if (p.open === 0 && p.waiters.length === 0) this.#remove(p);
    }
  }

  open(): void {
    this.#closed = false;
  }

  close(): void {
    this.#closed = true;
    for (const p of [...this.#all()]) for (const up of p.idle.splice(0)) this.#discard(up);
  }

  #remove(p: Pool): void {
    const byHost = this.#pools.get(p.route);
    const byPort = byHost?.get(p.target.host);
    if (byHost === undefined || byPort === undefined) return;
    byPort.delete(p.target.port);
    if (byPort.size === 0) byHost.delete(p.target.host);
    if (byHost.size === 0) this.#pools.delete(p.route);
  }

  stats(): PoolStats {
    let pools = 0;
    let open = 0;
    let idle = 0;
    let waiting = 0;
    for (const p of this.#all()) {
      pools++;
      open += p.open;
      idle += p.idle.length;
      waiting += p.waiters.length;
    }
    return {
      pools,
      open,
      idle,
      waiting,
      created: this.#created,
      reused: this.#reused,
      expired: this.#expired,
      detached: this.#detached,
      discarded: { ...this.#discarded },
    };
  }

  #usable(up: Upstream, now: number): boolean {
    const o = this.#opts;
    if (up.socket.destroyed || !up.socket.writable) return false;
    if (up.idleSince !== 0 && up.owner === null && now - up.idleSince >= o.idleTimeout) return false;
    return o.maxLifetime === 0 || now - up.createdAt < o.maxLifetime;
  }

  #lease(up: Upstream, c: Connection, handler: UpstreamHandler): void {
    up.owner = c;
    up.handler = handler;
    up.idleSince = 0;
    up.bytesThisExchange = 0;
  }

  #connect(p: Pool, c: Connection, handler: UpstreamHandler, now: number): Upstream {
    const opened = openBackendSocket(this.#ctx.options, p.route, p.target, c.serverName);
    const socket = opened.socket as UpSocket;
    const ready = opened.ready;
    const up = new Upstream(socket, p, now);
    socket[kUp] = up;
    p.open++;
    this.#created++;
    this.#lease(up, c, handler);
    socket.on('data', onUpData);
    socket.on('drain', onUpDrain);
    socket.on('end', onUpEnd);
    socket.on('error', onUpError);
    socket.on('close', onUpClose);
    socket.once(ready, onUpReady);
    return up;
  }

  /** Hand a freed slot to the next waiter by opening a socket for it. */
  #serveWaiter(p: Pool, now: number): void {
    if (this.#closed || p.open >= this.#opts.maxSockets) return;
    const w = p.waiters.shift();
    if (w !== undefined) this.#connect(p, w.c, w.handler, now);
  }

  #forget(up: Upstream): void {
    if (up.detached) return;
    up.detached = true;
    up.pool.open--;
    const i = up.pool.idle.indexOf(up);
    if (i !== -1) up.pool.idle.splice(i, 1);
  }

  #discard(up: Upstream): void {
    this.#forget(up);
    if (!up.socket.destroyed) up.socket.destroy();
  }

  /** An idle socket received bytes: destroyed (by the caller) and counted. */
  noteUnsolicited(): void {
    this.#discarded.unsolicited++;
  }

  /** Called by the socket's 'close' listener. */
  onSocketClosed(up: Upstream): void {
    const wasOpen = !up.detached;
    this.#forget(up);
    if (wasOpen) this.#serveWaiter(up.pool, this.#ctx.clock.now());
  }
}

// ---- socket listeners -------------------------------------------------------------------------
// Guarded (net/mode.ts): an exception closes the connection that leases the socket (and the
// socket); an idle socket's exception only destroys it.

function poolOwner(s: ConnSocket): Connection | null {
  return (s as UpSocket)[kUp]?.owner ?? null;
}

const onUpReady = guarded(
  FaultSite.Pool,
  function onUpReady(this: UpSocket): void {
    const up = this[kUp]!;
    up.connected = true;
    const owner = up.owner;
    if (owner === null) return;
    if (channels.backendConnected.hasSubscribers) {
      channels.backendConnected.publish({
        conn: owner,
        target: up.pool.key,
        connectMs: owner.ctx.clock.now() - up.createdAt,
      });
    }
    up.handler!.ready(owner, up);
  },
  poolOwner,
);

const onUpData = guarded<Buffer>(
  FaultSite.Pool,
  function onUpData(this: UpSocket, chunk: Buffer): void {
    const up = this[kUp]!;
    up.bytesThisExchange += chunk.length;
    if (up.owner !== null) up.handler!.data(up.owner, up, chunk);
    else {
      // Bytes on an idle socket: no request is outstanding, so they answer nobody. Never reuse it.
      if (!up.detached) up.pool.owner.noteUnsolicited();
      this.destroy();
    }
  },
  poolOwner,
);

const onUpDrain = guarded(
  FaultSite.Pool,
  function onUpDrain(this: UpSocket): void {
    const up = this[kUp]!;
    if (up.owner !== null) up.handler!.drain(up.owner, up);
  },
  poolOwner,
);

/** The backend ended its side: an HTTP upstream socket is done (its 'close' tells the owner). */
const onUpEnd = guarded(
  FaultSite.Pool,
  function onUpEnd(this: UpSocket): void {
    this.destroy();
  },
  poolOwner,
);

const onUpError = guarded<NodeJS.ErrnoException>(
  FaultSite.Pool,
  function onUpError(this: UpSocket, err: NodeJS.ErrnoException): void {
    this[kUp]!.lastError = err;
  },
  poolOwner,
);

function onUpClose(this: UpSocket): void {
  const up = this[kUp]!;
  // The pool's own bookkeeping first, outside the guard: a failing owner never leaks a slot.
  up.pool.owner.onSocketClosed(up);
  onUpClosedOwner.call(this);
}

const onUpClosedOwner = guarded(
  FaultSite.Pool,
  function onUpClosedOwner(this: UpSocket): void {
    const up = this[kUp]!;
    const owner = up.owner;
    if (owner !== null) {
      const h = up.handler!;
      up.owner = null;
      up.handler = null;
      h.closed(owner, up, up.lastError);
    }
  },
  poolOwner,
);
