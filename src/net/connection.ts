/**
 * The connection record and its state machine (DESIGN §1 L3): one client socket, at most one
 * backend socket, one phase at a time, and exactly one close reason decided once.
 *
 * Socket listeners live in peek.ts / pump.ts as module-level functions that reach this record
 * through the `kConn` back-pointer (DESIGN §2.5), so no closure is allocated per connection.
 */
import type { Socket } from 'node:net';
import {
  CloseReason,
  EndKind,
  Initiator,
  Phase,
  type CloseReason as Reason,
  type EndKind as Kind,
  type Initiator as Who,
} from '../core/close-reasons.js';
import { channels, FaultSite, type CloseEvent, type ConnectionView } from '../core/channels.js';
import { maybeFault } from '../core/faults.js';
import type { WheelEntry } from '../core/timer-wheel.js';
import { SightlineError } from '../core/errors.js';
import type { CompiledRoute } from '../routing/route-table.js';
import type { ProxyContext } from './context.js';
import type { EffectiveTimeouts } from './timeouts.js';
import { clampTimer } from '../core/timer-wheel.js';
import { formatUniqueId, nextUniqueSeq } from '../core/unique-id.js';
import type { WriteStallState } from './write-stall.js';

export const kConn = Symbol('sightline.conn');
export type ConnSocket = Socket & { [kConn]?: Connection };

/** Flag bits: FIN received per side, socket fully closed per side, our write side ended per side. */
export const F = {
  ClientFin: 1,
  BackendFin: 2,
  ClientGone: 4,
  BackendGone: 8,
  ClientWriteEnded: 16,
  BackendWriteEnded: 32,
  Finalized: 64,
  /** Counted in the route's per-IP admission state (released at close). */
  RouteCounted: 128,
} as const;

/** What the wheel deadline of a connection currently means. */
export const Deadline = { None: 0, InitialData: 1, Connect: 2, Handshake: 3, Mode: 4 } as const;
type DeadlineKind = (typeof Deadline)[keyof typeof Deadline];

/**
 * What a mode that reads the traffic (HTTP, WebSocket: L4 proxy/) adds to the record. One shared
 * object per mode, not a closure per connection; its state lives in `modeState`.
 */
export interface ModeHooks {
  /** The `Deadline.Mode` deadline passed. */
  deadline(c: Connection): void;
  /** The proxy is draining: finish what is in flight, then close (idempotent). */
  drain(c: Connection): void;
  /** A reason about to be decided; the mode may name it better (WebSocket close frames, 1006). */
  refine?(c: Connection, reason: Reason, initiator: Who): { reason: Reason; initiator: Who };
  /** Extra close-event fields. */
  describe?(c: Connection): Pick<CloseEvent, 'http' | 'websocket'>;
}

export class Connection implements WheelEntry, ConnectionView {
  readonly id: number;
  readonly ctx: ProxyContext;
  /** The client side: the accepted socket, or the TLS socket over it once a route terminates TLS. */
  client: ConnSocket;
  backend: ConnSocket | null = null;
  readonly listenPort: number;
  /** The TCP peer of the accepted socket (a load balancer when it sends PROXY headers). */
  readonly peerIP: string;
  readonly peerPort: number;
  /**
   * The client: the peer, or the source a trusted PROXY header names (set once it is parsed).
   * Limits, rates, IP lists, logs' `client`, spans' `client.address` and X-Forwarded-For use it.
   */
  remoteIP: string;
  remotePort: number;
  /** The address the per-IP count and rate were charged to (released against the same key). */
  limitKey: string | null = null;
  readonly incomingStartTime: number;
  route: CompiledRoute | null = null;
  serverName: string | null = null;
  isTLS = false;
  hasKeepAlive: boolean;
  /** Shared per proxy: the effective idle timeout, age cap and treatment of this connection. */
  timeouts: EffectiveTimeouts;
  /** When the `extended` idle warning was given (0 = not warned). */
  warnedAt = 0;
  phase: Phase = Phase.Admission;
  target: string | null = null;
  flags = 0;
  deadlineKind: DeadlineKind = Deadline.None;
  /** Bytes held in user space before the tunnel exists (peeked, replayed on connect). */
  pending: Buffer | null = null;
  /** Parser state while peeking (PROXY header / ClientHello); dropped once routed. */
  peekState: unknown = null;
  /** The reading mode's hooks and state (HTTP session, WebSocket relay); null for tunnels. */
  hooks: ModeHooks | null = null;
  modeState: unknown = null;
  connectStart = 0;
  backendConnectedAt = 0;
  /** Last time bytes moved, sampled from socket counters by the registry sweep. */
  lastActivity: number;
  /** Byte counters as of the last sample (socket `bytesRead` is a native call: read it once). */
  clientBytesSeen = 0;
  backendBytesSeen = 0;
  /** When the first side ended (FIN / close), for the half-zombie grace. 0 = both open. */
  halfClosedAt = 0;
  reason: Reason | null = null;
  initiator: Who = Initiator.Proxy;
  firstSide: 'client' | 'backend' | null = null;
  endKind: Kind = EndKind.Local;
  closePhase: Phase = Phase.Admission;
  errorCode: string | null = null;
  /** lastActivity when the proxy decided to close (-1: it did not): a close handshake is no activity. */
  #activityAtDecision = -1;
  // ---- cross-hop correlation (issue 14) ----
  /** The previous hop's id for this connection (a trusted PROXY v2 header's unique id TLV). */
  previousHopId: string | null = null;
  readonly #uniqueSeq = nextUniqueSeq();
  /** Write progress per side, made by the sweep once bytes wait for a peer (write-stall.ts). */
  writeStall: WriteStallState | null = null;
  #uniqueId: string | null = null;

  constructor(ctx: ProxyContext, client: Socket, id: number, listenPort: number, remoteIP: string) {
    this.ctx = ctx;
    this.id = id;
    this.client = client as ConnSocket;
    this.client[kConn] = this;
    this.listenPort = listenPort;
    this.peerIP = remoteIP;
    this.peerPort = client.remotePort ?? 0;
    this.remoteIP = remoteIP;
    this.remotePort = this.peerPort;
    this.incomingStartTime = ctx.clock.now();
    this.lastActivity = this.incomingStartTime;
    this.hasKeepAlive = ctx.options.keepAlive;
    this.timeouts = this.hasKeepAlive ? ctx.timeouts.keepAlive : ctx.timeouts.plain;
  }

  /** Unique across processes and machines (core/unique-id.ts); sent to the next hop in PROXY v2. */
  get uniqueId(): string {
    return (this.#uniqueId ??= formatUniqueId(this.#uniqueSeq));
  }
  get proxyId(): number {
    return this.ctx.proxyId;
  }
  get routeName(): string | null {
    return this.route?.name ?? null;
  }
  /** Seed compatibility: bytes received from the client. */
  get bytesReceived(): number {
    return this.client.bytesRead;
  }
  /** Seed compatibility: bytes sent to the client. */
  get bytesSent(): number {
    return this.client.bytesWritten;
  }
  /** Idle time after which the connection is warned (`extended`) or killed; null = never. */
  get effectiveIdleTimeout(): number | null {
    return this.timeouts.idleMs;
  }
  /** Age after which the connection is killed; null = never. */
  get effectiveLifetime(): number | null {
    return this.timeouts.ageCapMs;
  }
  get mode(): string | null {
    const r = this.route;
    return r === null ? null : r.tlsMode === 'passthrough' ? 'passthrough' : `${r.tlsMode}+${r.protocol}`;
  }
  get keepAliveTreatment(): string {
    return this.timeouts.treatment;
  }
  /** Milliseconds since bytes last moved (as of the last sample). */
  get idleFor(): number {
    return Math.max(0, this.ctx.clock.now() - this.lastActivity);
  }
  get closed(): boolean {
    return (this.flags & F.Finalized) !== 0;
  }

  /** The wheel deadline passed: the first bytes or the backend did not come in time. */
  onDeadline(): void {
    const kind = this.deadlineKind;
    this.deadlineKind = Deadline.None;
    try {
      maybeFault(FaultSite.Timer, this);
      if (kind === Deadline.InitialData) this.close(CloseReason.InitialDataTimeout);
      else if (kind === Deadline.Connect) this.close(CloseReason.BackendConnectTimeout);
      else if (kind === Deadline.Handshake) this.close(CloseReason.TlsHandshakeTimeout);
      else if (kind === Deadline.Mode) this.hooks?.deadline(this);
    } catch (err) {
      this.fail(FaultSite.Timer, err);
    }
  }

  /**
   * An exception escaped at `site` (net/guard.ts): close with `internal_error`, make sure the
   * record completes (a throw inside a 'close' listener may have skipped its bookkeeping), publish
   * it. `socket`: the socket whose event threw, destroyed too (it may not be ours: a pool's).
   * Never throws.
   */
  fail(site: FaultSite, err: unknown, socket?: Socket): void {
    try {
      if (socket !== undefined && !socket.destroyed) socket.destroy();
      if (!this.closed) {
        this.close(CloseReason.InternalError, Initiator.Proxy, EndKind.Local, err instanceof Error ? err : new Error(String(err)));
        if (this.client.closed) this.flags |= F.ClientGone;
        if (this.backend?.closed === true) this.flags |= F.BackendGone;
        this.maybeFinalize();
      }
    } catch {
      /* as closed as it can be; the event below still counts it */
    }
    if (channels.internalError.hasSubscribers) {
      try {
        channels.internalError.publish({ proxyId: this.proxyId, site, conn: this, error: err });
      } catch {
        /* subscribers catch their own errors */
      }
    }
  }

  armDeadline(kind: DeadlineKind, afterMs: number): void {
    this.deadlineKind = kind;
    this.ctx.wheel.schedule(this, this.ctx.clock.now() + clampTimer(afterMs));
  }

  disarmDeadline(): void {
    this.deadlineKind = Deadline.None;
    this.ctx.wheel.cancel(this);
  }

  /** Note that `side`'s socket ended (FIN); the first such side is kept for the close record. */
  noteFirstEnd(side: 'client' | 'backend'): void {
    if (this.firstSide === null && this.reason === null) this.firstSide = side;
    if (this.halfClosedAt === 0) this.halfClosedAt = this.ctx.clock.now();
  }

  /** Fix the close reason; the first decision wins. Returns false when already decided. */
  decide(reason: Reason, initiator: Who, kind: Kind = EndKind.Local, error?: Error): boolean {
    if (this.reason !== null) return false;
    if (this.hooks?.refine !== undefined) ({ reason, initiator } = this.hooks.refine(this, reason, initiator));
    this.reason = reason;
    this.initiator = initiator;
    if (this.firstSide === null && initiator !== Initiator.Proxy) this.firstSide = initiator;
    this.endKind = kind;
    this.closePhase = this.phase;
    // Idle-at-close counts up to the last application byte: the peers' replies to our close
    // frames (WebSocket heartbeat, drain) would otherwise make every silent client look busy.
    if (kind === EndKind.Local) {
      this.ctx.registry.sampleOne(this, this.ctx.clock.now());
      this.#activityAtDecision = this.lastActivity;
    }
    // Socket errors are known by their code (ECONNRESET); our own errors by their full message.
    if (error !== undefined) this.errorCode = error instanceof SightlineError ? error.message : ((error as NodeJS.ErrnoException).code ?? error.message);
    return true;
  }

  /** The proxy ends the connection: decide the reason (if not yet) and destroy both sockets. */
  close(reason: Reason, initiator: Who = Initiator.Proxy, kind: Kind = EndKind.Local, error?: Error): void {
    this.decide(reason, initiator, kind, error);
    this.disarmDeadline();
    if (!this.client.destroyed) this.client.destroy();
    if (this.backend !== null && !this.backend.destroyed) this.backend.destroy();
    // A socket that never finished connecting may not emit 'close' synchronously; finalize
    // is driven by the 'close' listeners, which every socket gets.
  }

  /** Called by the 'close' listeners; completes the record once every socket is gone. */
  maybeFinalize(): void {
    if ((this.flags & F.Finalized) !== 0) return;
    if ((this.flags & F.ClientGone) === 0) return;
    if (this.backend !== null && (this.flags & F.BackendGone) === 0) return;
    this.flags |= F.Finalized;
    this.disarmDeadline();
    const now = this.ctx.clock.now();
    if (this.limitKey !== null) this.ctx.admission.releaseClient(this.limitKey, now);
    if ((this.flags & F.RouteCounted) !== 0 && this.route !== null) this.ctx.admission.releaseRoute(this, this.route);
    if (this.reason === null) {
      // Both directions finished with FINs: the side that ended first closed it.
      const side = this.firstSide ?? 'client';
      this.decide(side === 'backend' ? CloseReason.BackendClosed : CloseReason.ClientClosed, side, EndKind.Fin);
    }
    // The event (and the native byte-counter reads it needs) only when someone listens.
    const ev = channels.close.hasSubscribers ? this.#closeEvent() : null;
    this.phase = Phase.Closed;
    this.ctx.registry.remove(this, this.reason ?? CloseReason.InternalError, this.initiator);
    if (ev !== null) channels.close.publish(ev);
  }

  #closeEvent(): CloseEvent {
    const now = this.ctx.clock.now();
    this.ctx.registry.sampleOne(this, now);
    return {
      conn: this,
      reason: this.reason ?? CloseReason.InternalError,
      initiator: this.initiator,
      firstSide: this.firstSide,
      endKind: this.endKind,
      phase: this.closePhase,
      durationMs: now - this.incomingStartTime,
      idleAtCloseMs: Math.max(0, now - (this.#activityAtDecision >= 0 ? this.#activityAtDecision : this.lastActivity)),
      bytesFromClient: this.client.bytesRead,
      bytesToClient: this.client.bytesWritten,
      target: this.target,
      error: this.errorCode,
      ...this.hooks?.describe?.(this),
    };
  }
}
