/**
 * What a pooled upstream socket is: the lease record (`Upstream`, reached from the socket through
 * `kUp`), its pool, the handler the leasing connection receives events through, and why a socket
 * is discarded instead of reused. The pooling itself is upstream-pool.ts.
 */
import type { Connection, ConnSocket } from '../net/connection.js';
import type { ResolvedTarget } from '../net/upstream.js';
import type { CompiledRoute } from '../routing/route-table.js';
import type { UpstreamPools } from './upstream-pool.js';

export const kUp = Symbol('sightline.upstream');

/**
 * Why a socket is destroyed instead of reused: any doubt about where its byte stream stands
 * means the next response read from it might not be the next client's. Counted by cause.
 */
export const Doubt = {
  /** Response bytes nobody asked for: after a complete response, or on an idle socket. */
  Unsolicited: 'unsolicited',
  /** The response ran until the backend closed. */
  CloseFramed: 'close_framed',
  /** The exchange was abandoned mid-way (client left, timeout, body cut off, proxy error). */
  Aborted: 'aborted',
  /** The response head or body framing was malformed or ambiguous. */
  BadResponse: 'bad_response',
  /** The response completed before the request body was sent in full. */
  EarlyResponse: 'early_response',
  /** The backend said it closes (Connection: close, HTTP/1.0 without keep-alive). */
  NotKeepAlive: 'not_keep_alive',
} as const;
export type Doubt = (typeof Doubt)[keyof typeof Doubt];
export type UpSocket = ConnSocket & { [kUp]?: Upstream };

/** What the leasing side (the HTTP session) is told. One object for all connections. */
export interface UpstreamHandler {
  ready(c: Connection, up: Upstream): void;
  data(c: Connection, up: Upstream, chunk: Buffer): void;
  drain(c: Connection, up: Upstream): void;
  /** The socket closed while leased (err: the error that preceded it, if any). */
  closed(c: Connection, up: Upstream, err: NodeJS.ErrnoException | null): void;
}

export class Upstream {
  readonly socket: UpSocket;
  readonly pool: Pool;
  readonly createdAt: number;
  owner: Connection | null = null;
  handler: UpstreamHandler | null = null;
  connected = false;
  /** Exchanges completed on this socket (0: fresh). */
  uses = 0;
  idleSince = 0;
  /** Response bytes received in the current exchange (0: the backend has said nothing yet). */
  bytesThisExchange = 0;
  lastError: NodeJS.ErrnoException | null = null;
  /** Left the pool (upgraded, or destroyed); never returned to it. */
  detached = false;
  /** Set when the current exchange found the socket untrustworthy (release destroys it). */
  doubt: Doubt | null = null;

  constructor(socket: UpSocket, pool: Pool, now: number) {
    this.socket = socket;
    this.pool = pool;
    this.createdAt = now;
  }
}

interface Waiter {
  readonly c: Connection;
  readonly handler: UpstreamHandler;
}

export class Pool {
  readonly route: CompiledRoute;
  readonly target: ResolvedTarget;
  readonly key: string;
  readonly owner: UpstreamPools;
  readonly idle: Upstream[] = [];
  /** Sockets counted against maxSockets: connecting, leased and idle (not detached). */
  open = 0;
  readonly waiters: Waiter[] = [];

  constructor(owner: UpstreamPools, route: CompiledRoute, target: ResolvedTarget, key: string) {
    this.owner = owner;
    this.route = route;
    this.target = target;
    this.key = key;
  }
}

export interface PoolStats {
  readonly pools: number;
  readonly open: number;
  readonly idle: number;
  readonly waiting: number;
  readonly created: number;
  readonly reused: number;
  readonly expired: number;
  readonly detached: number;
  /** Sockets destroyed instead of reused, by cause. */
  readonly discarded: Readonly<Record<Doubt, number>>;
}
