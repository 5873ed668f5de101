/**
 * What a routed connection becomes: a `Mode` (DESIGN §1 L4). The modes themselves live in proxy/
 * (tunnel, tls-terminate, http, websocket, socket-handler); this file is the contract and the
 * runner that net/ drives them through, so net/ never names one.
 *
 * - A mode is a value, one object per mode (no closure per connection), resolved once when the
 *   route table is compiled (`CompiledRoute.mode`, proxy/modes.ts). Dispatch is `runMode()`.
 * - Listeners: net/ owns the client socket's lifecycle ('end', 'error', 'close': the close
 *   decision, net/socket-events.ts) and asks the running mode through the hooks below; a mode
 *   owns the flow listeners it attaches ('data', 'drain', the backend's 'end') through a
 *   `Listeners` set, and detaches them in `leave` when another mode takes over.
 * - Fault isolation (DESIGN §1 L4: "an exception in a mode closes that connection only"):
 *   `Listeners` wraps each listener once, at module load, with `guarded` (below: one try/catch
 *   per event, no closure per connection); `runMode` runs `start` under the mode's fault site,
 *   and the record's listeners call the hooks under it. An exception closes the connection the
 *   event belongs to with `internal_error` (failConnection below: initiator proxy, the record
 *   completes even when the throw came from a 'close' listener) and is published on
 *   `sightline:internal-error` with its site; telemetry counts it
 *   (`sightline_internal_errors_total{site}`) and logs the stack, rate-limited per site. Every
 *   other connection is untouched. Tests prove each site with core/faults.ts `injectFaults()`.
 */
import type { Socket } from 'node:net';
import type { CloseEvent, FaultSite } from '../core/channels.js';
import { CloseReason, EndKind, Initiator } from '../core/close-reasons.js';
import { channels } from '../core/channels.js';
import { faultInjector, maybeFault } from '../core/faults.js';
import type { CompiledRoute } from '../routing/route-table.js';
import { F, kConn, type ConnSocket } from './connection-bits.js';
import type { Connection } from './connection.js';

/** What the connection record asks the mode running on it. Every hook is optional. */
export interface ModeHooks {
  /** For logs and the architecture doc: 'tunnel', 'tls-terminate', 'http', 'websocket', 'socket-handler'. */
  readonly name: string;
  /** Where an exception in this mode is counted (`sightline_internal_errors_total{site}`). */
  readonly site: FaultSite;
  /** The `Deadline.Mode` deadline passed. */
  deadline?(c: Connection): void;
  /** The proxy is draining: finish what is in flight, then close (idempotent). Absent: closed like a tunnel. */
  drain?(c: Connection): void;
  /** A reason about to be decided; the mode may name it better (WebSocket close frames, 1006). */
  refine?(c: Connection, reason: CloseReason, initiator: Initiator): { reason: CloseReason; initiator: Initiator };
  /** Extra close-event fields. */
  describe?(c: Connection): Pick<CloseEvent, 'http' | 'websocket'>;
  /** The client sent FIN (the record has noted it). */
  clientEnd?(c: Connection): void;
  /** A client socket error; true when the mode decided the reason itself. */
  clientError?(c: Connection, err: NodeJS.ErrnoException): boolean;
  /** The client socket closed; runs before the record's own decision (the first decision wins). */
  clientClosed?(c: Connection): void;
  /** Another mode takes the connection over: detach this mode's listeners. */
  leave?(c: Connection): void;
}

/** A mode a route can name: it takes over the connection once it is routed. */
export interface Mode extends ModeHooks {
  start(c: Connection, route: Route): void;
}

/** A route of the data path: its mode is a `Mode`. */
export type Route = CompiledRoute<Mode>;

/** Hand a routed connection to `mode` (the one call dispatch makes; tls-terminate uses it too). */
export function runMode(c: Connection, mode: Mode, route: Route): void {
  c.switchMode(mode, null);
  try {
    maybeFault(mode.site, c);
    mode.start(c, route);
  } catch (err) {
    // A mode that failed to start has no state to answer the record's questions with.
    c.dropMode();
    failConnection(c, mode.site, err);
  }
}

type DataListener = (this: ConnSocket, chunk: Buffer) => void;
type EventListener = (this: ConnSocket) => void;

/** The flow listeners a mode puts on one socket. */
export interface FlowEvents {
  readonly data?: DataListener;
  readonly drain?: EventListener;
  readonly end?: EventListener;
  /** Attached with once(): the TLS handshake completed. */
  readonly secure?: EventListener;
}

/**
 * One mode's listeners for one kind of socket, guarded once at module load (one try/catch per
 * event, no closure per connection; they reach the record through `kConn`).
 */
export class Listeners {
  readonly data: DataListener | undefined;
  readonly drain: EventListener | undefined;
  readonly end: EventListener | undefined;
  readonly secure: EventListener | undefined;

  constructor(site: FaultSite, ev: FlowEvents) {
    this.data = ev.data === undefined ? undefined : guarded<Buffer>(site, ev.data);
    this.drain = ev.drain === undefined ? undefined : guarded(site, ev.drain);
    this.end = ev.end === undefined ? undefined : guarded(site, ev.end);
    this.secure = ev.secure === undefined ? undefined : guarded(site, ev.secure);
  }

  attach(s: Socket): void {
    if (this.data !== undefined) s.on('data', this.data);
    if (this.drain !== undefined) s.on('drain', this.drain);
    if (this.end !== undefined) s.on('end', this.end);
    if (this.secure !== undefined) s.once('secure', this.secure);
  }

  detach(s: Socket): void {
    if (this.data !== undefined) s.removeListener('data', this.data);
    if (this.drain !== undefined) s.removeListener('drain', this.drain);
    if (this.end !== undefined) s.removeListener('end', this.end);
    if (this.secure !== undefined) s.removeListener('secure', this.secure);
  }
}

// ---- fault isolation ------------------------------------------------------------------------

type Listener<A, B> = (this: ConnSocket, a: A, b: B) => void;

/**
 * `fn` as a listener whose exceptions close only its own connection (found through the socket's
 * `kConn` back-pointer, or `connOf` for sockets that belong to a pool). The socket whose event
 * threw is destroyed with it.
 */
export function guarded<A = void, B = void>(
  site: FaultSite,
  fn: Listener<A, B>,
  connOf: (s: ConnSocket) => Connection | null | undefined = (s) => s[kConn],
): Listener<A, B> {
  return function (this: ConnSocket, a: A, b: B): void {
    try {
      // Per event in production: one null check (the connection is looked up only for a test's injector).
      if (faultInjector !== null) faultInjector(site, connOf(this) ?? null);
      fn.call(this, a, b);
    } catch (err) {
      const c = connOf(this) ?? null;
      if (c !== null) failConnection(c, site, err, this);
      else {
        if (!this.destroyed) this.destroy();
        publishInternalError(site, null, err, 0);
      }
    }
  };
}

/** Publish an internal error (counted and logged by telemetry). Never throws. */
export function publishInternalError(site: FaultSite, c: Connection | null, err: unknown, proxyId: number): void {
  if (!channels.internalError.hasSubscribers) return;
  try {
    channels.internalError.publish({ proxyId: c?.proxyId ?? proxyId, site, conn: c, error: err });
  } catch {
    /* subscribers catch their own errors; never throw into the data path */
  }
}

/**
 * An exception escaped at `site`: close `c` with `internal_error`, make sure the record completes
 * (a throw inside a 'close' listener may have skipped its bookkeeping), publish it. `socket`: the
 * socket whose event threw, destroyed too (it may not be ours: a pool's). Never throws.
 */
export function failConnection(c: Connection, site: FaultSite, err: unknown, socket?: Socket): void {
  try {
    if (socket !== undefined && !socket.destroyed) socket.destroy();
    if (!c.closed) {
      c.close(
        CloseReason.InternalError,
        Initiator.Proxy,
        EndKind.Local,
        err instanceof Error ? err : new Error(String(err)),
      );
      if (c.client.closed) c.flags |= F.ClientGone;
      if (c.backend?.closed === true) c.flags |= F.BackendGone;
      c.maybeFinalize();
    }
  } catch {
    /* as closed as it can be; the event below still counts it */
  }
  publishInternalError(site, c, err, c.proxyId);
}
