/**
 * The connection record and its state machine (DESIGN §1 L3): one client socket, at most one
 * backend socket, one phase at a time, and exactly one close reason decided once.
 *
 * Socket listeners are module-level functions that reach this record through the `kConn`
 * back-pointer (DESIGN §2.5), so no closure is allocated per connection: the client socket's
 * lifecycle listeners in socket-events.ts (attached here, in `adoptClient` / `adoptBackend`), the
 * peek's in peek.ts, a mode's own in its file under proxy/ (net/mode.ts: the contract).
 *
 * What only net/ changes is private with a getter (sockets, phase, addresses, mode); what a mode
 * may change goes through a method: `enter(phase)` (publishes `sightline:phase`), `switchMode`,
 * `adoptClient`, `adoptBackend`, `takePending`.
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
import type { ProxyContext } from './context.js';
import { failConnection, type ModeHooks, type Route } from './mode.js';
import type { PeekState } from './peek.js';
import { onBackendClose, onBackendError, onClientClose, onClientEnd, onClientError } from './socket-events.js';
import { Deadline, F, kConn, type ConnSocket, type DeadlineKind } from './connection-bits.js';
import type { EffectiveTimeouts } from './timeouts.js';
import { clampTimer } from '../core/timer-wheel.js';
import { ConnectionStory } from './story.js';
import { formatUniqueId, nextUniqueSeq } from '../core/unique-id.js';
import type { WriteStallState } from './write-stall.js';

// The record's symbols and bit sets live in connection-bits.ts (kept short); importers use them from here.
export { Deadline, F, kConn, type ConnSocket } from './connection-bits.js';

export class Connection implements WheelEntry, ConnectionView {
  readonly id: number;
  readonly ctx: ProxyContext;
  #client: ConnSocket;
  #backend: ConnSocket | null = null;
  readonly listenPort: number;
  /** The TCP peer of the accepted socket (a load balancer when it sends PROXY headers). */
  readonly peerIP: string;
  readonly peerPort: number;
  #clientIP: string;
  #clientPort: number;
  /** The address the per-IP count and rate were charged to (released against the same key). */
  limitKey: string | null = null;
  readonly incomingStartTime: number;
  #route: Route | null = null;
  serverName: string | null = null;
  isTLS = false;
  readonly hasKeepAlive: boolean;
  /** Shared per proxy: the effective idle timeout, age cap and treatment of this connection. */
  readonly timeouts: EffectiveTimeouts;
  /** When the `extended` idle warning was given (0 = not warned). */
  warnedAt = 0;
  #phase: Phase = Phase.Admission;
  target: string | null = null;
  flags = 0;
  #deadlineKind: DeadlineKind = Deadline.None;
  /** Bytes held in user space before a mode reads them (peeked, replayed on connect). */
  #pending: Buffer | null = null;
  /** Parser state while peeking (PROXY header / ClientHello); dropped once routed. */
  peek: PeekState | null = null;
  /** The running mode (null before routing) and its per-connection state (its own class; null: none). */
  #mode: ModeHooks | null = null;
  #modeState: object | null = null;
  connectStart = 0;
  #backendConnectedAt = 0;
  /** Last time bytes moved, sampled from socket counters by the registry sweep. */
  lastActivity: number;
  /** Byte counters as of the last sample (socket `bytesRead` is a native call: read it once). */
  clientBytesSeen = 0;
  backendBytesSeen = 0;
  /** When the first side ended (FIN / close), for the half-zombie grace. 0 = both open. */
  halfClosedAt = 0;
  // The close decision (decide(): the first one wins), read through the close event.
  #reason: Reason | null = null;
  #initiator: Who = Initiator.Proxy;
  #firstSide: 'client' | 'backend' | null = null;
  #endKind: Kind = EndKind.Local;
  #closePhase: Phase = Phase.Admission;
  #errorCode: string | null = null;
  readonly story = new ConnectionStory(this);
  /** lastActivity when the proxy decided to close (-1: it did not): a close handshake is no activity. */
  #activityAtDecision = -1;
  // ---- cross-hop correlation (issue 14) ----
  /** The previous hop's id for this connection (a trusted PROXY v2 header's unique id TLV). */
  previousHopId: string | null = null;
  readonly #uniqueSeq = nextUniqueSeq();
  /** Write progress per side, made by the sweep once bytes wait for a peer (write-stall.ts). */
  writeStall: WriteStallState | null = null;
  #uniqueId: string | null = null;

  constructor(ctx: ProxyContext, client: Socket, id: number, listenPort: number, peerIP: string) {
    this.ctx = ctx;
    this.id = id;
    this.#client = this.#adopt(client as ConnSocket);
    this.listenPort = listenPort;
    this.peerIP = peerIP;
    this.peerPort = client.remotePort ?? 0;
    this.#clientIP = peerIP;
    this.#clientPort = this.peerPort;
    this.incomingStartTime = ctx.clock.now();
    this.lastActivity = this.incomingStartTime;
    this.hasKeepAlive = ctx.options.keepAlive;
    this.timeouts = this.hasKeepAlive ? ctx.timeouts.keepAlive : ctx.timeouts.plain;
  }

  /** Unique across processes and machines (core/unique-id.ts); sent to the next hop in PROXY v2. */
  get uniqueId(): string {
    return (this.#uniqueId ??= formatUniqueId(this.#uniqueSeq));
  }
  /** The client side: the accepted socket, or the TLS socket over it once a route terminates TLS. */
  get client(): ConnSocket {
    return this.#client;
  }
  get backend(): ConnSocket | null {
    return this.#backend;
  }
  /**
   * The client: the peer, or the source a trusted PROXY header names (set once it is parsed).
   * Limits, rates, IP lists, logs' `client`, spans' `client.address` and X-Forwarded-For use it.
   */
  get clientIP(): string {
    return this.#clientIP;
  }
  get clientPort(): number {
    return this.#clientPort;
  }
  /** Seed compatibility: the client address (`clientIP`). */
  get remoteIP(): string {
    return this.#clientIP;
  }
  /** Seed compatibility: the client port (`clientPort`). */
  get remotePort(): number {
    return this.#clientPort;
  }
  /** Why the connection ends, once decided (null: not yet). */
  get reason(): Reason | null {
    return this.#reason;
  }
  get phase(): Phase {
    return this.#phase;
  }
  get route(): Route | null {
    return this.#route;
  }
  /** The mode running on this connection (null before routing). */
  get runningMode(): ModeHooks | null {
    return this.#mode;
  }
  /** The running mode's per-connection state (each mode narrows it to its own class). */
  get modeState(): object | null {
    return this.#modeState;
  }
  /** When the backend became able to carry bytes (0: not yet). */
  get backendConnectedAt(): number {
    return this.#backendConnectedAt;
  }
  /** Bytes held before a mode reads them. */
  get pending(): Buffer | null {
    return this.#pending;
  }

  /** Move to `phase` (the one place a phase changes); published on `sightline:phase`. */
  enter(phase: Phase): void {
    const from = this.#phase;
    this.#phase = phase;
    if (channels.phase.hasSubscribers) channels.phase.publish({ conn: this, from, to: phase });
  }

  /** A trusted PROXY header named the client (net/peek.ts). */
  setClientAddress(ip: string, port: number): void {
    this.#clientIP = ip;
    this.#clientPort = port;
  }

  /** The route chosen for this connection (net/peek.ts dispatch). */
  setRoute(route: Route): void {
    this.#route = route;
  }

  /** Hold bytes read before any mode runs (the peek's leftovers). */
  holdPending(bytes: Buffer | null): void {
    this.#pending = bytes !== null && bytes.length > 0 ? bytes : null;
  }

  /** The held bytes, now the caller's to replay (null: none). */
  takePending(): Buffer | null {
    const p = this.#pending;
    this.#pending = null;
    return p;
  }

  /**
   * `mode` takes the connection over with `state` (its per-connection object, or null): the mode
   * running until now detaches its listeners first.
   */
  switchMode(mode: ModeHooks, state: object | null): void {
    const prev = this.#mode;
    if (prev !== null && prev !== mode) prev.leave?.(this);
    this.#mode = mode;
    this.#modeState = state;
  }

  /** The mode failed to start: nothing runs on the connection any more (it is being closed). */
  dropMode(): void {
    this.#mode = null;
    this.#modeState = null;
  }

  /** The running mode's state changes (the same mode, e.g. once its session object exists). */
  setModeState(state: object | null): void {
    this.#modeState = state;
  }

  /**
   * `s` becomes the client side (a TLS socket over the accepted one): closing the connection
   * destroys it, and it gets the record's lifecycle listeners (a peer that leaves mid-handshake
   * shows up only on it).
   */
  adoptClient(s: ConnSocket): void {
    this.#client = this.#adopt(s);
  }

  /** The record's lifecycle listeners on a client socket (a mode adds its own once routed). */
  #adopt(s: ConnSocket): ConnSocket {
    s[kConn] = this;
    s.on('error', onClientError);
    s.on('close', onClientClose);
    s.on('end', onClientEnd);
    return s;
  }

  /** `b` becomes the backend socket, with the record's lifecycle listeners ('error', 'close'). */
  adoptBackend(b: ConnSocket): void {
    b[kConn] = this;
    this.#backend = b;
    b.on('error', onBackendError);
    b.on('close', onBackendClose);
  }

  /** The backend can carry bytes now: its errors are no longer connect failures. */
  backendReady(): void {
    this.flags |= F.BackendReady;
    this.#backendConnectedAt = this.ctx.clock.now();
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
    const kind = this.#deadlineKind;
    this.#deadlineKind = Deadline.None;
    try {
      maybeFault(FaultSite.Timer, this);
      if (kind === Deadline.InitialData) this.close(CloseReason.InitialDataTimeout);
      else if (kind === Deadline.Mode) this.#mode?.deadline?.(this);
    } catch (err) {
      failConnection(this, FaultSite.Timer, err);
    }
  }

  armDeadline(kind: DeadlineKind, afterMs: number): void {
    this.#deadlineKind = kind;
    this.ctx.wheel.schedule(this, this.ctx.clock.now() + clampTimer(afterMs));
  }

  disarmDeadline(): void {
    this.#deadlineKind = Deadline.None;
    this.ctx.wheel.cancel(this);
  }

  /** Note that `side`'s socket ended (FIN); the first such side is kept for the close record. */
  noteFirstEnd(side: 'client' | 'backend'): void {
    if (this.#firstSide === null && this.#reason === null) this.#firstSide = side;
    if (this.halfClosedAt === 0) this.halfClosedAt = this.ctx.clock.now();
  }

  /** Fix the close reason; the first decision wins. Returns false when already decided. */
  decide(reason: Reason, initiator: Who, kind: Kind = EndKind.Local, error?: Error): boolean {
    if (this.#reason !== null) return false;
    const refine = this.#mode?.refine;
    if (refine !== undefined) ({ reason, initiator } = refine.call(this.#mode, this, reason, initiator));
    this.#reason = reason;
    this.#initiator = initiator;
    if (this.#firstSide === null && initiator !== Initiator.Proxy) this.#firstSide = initiator;
    this.#endKind = kind;
    this.#closePhase = this.#phase;
    // Idle-at-close counts up to the last application byte: the peers' replies to our close
    // frames (WebSocket heartbeat, drain) would otherwise make every silent client look busy.
    if (kind === EndKind.Local) {
      this.ctx.registry.sampleOne(this, this.ctx.clock.now());
      this.#activityAtDecision = this.lastActivity;
    }
    // Socket errors are known by their code (ECONNRESET); our own errors by their full message.
    if (error !== undefined)
      this.#errorCode =
        error instanceof SightlineError ? error.message : ((error as NodeJS.ErrnoException).code ?? error.message);
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
    if (this.#reason === null) {
      // Both directions finished with FINs: the side that ended first closed it.
      const side = this.#firstSide ?? 'client';
      this.decide(side === 'backend' ? CloseReason.BackendClosed : CloseReason.ClientClosed, side, EndKind.Fin);
    }
    // The event (and the native byte-counter reads it needs) only when someone listens.
    const ev = channels.close.hasSubscribers ? this.#closeEvent() : null;
    this.enter(Phase.Closed);
    this.ctx.registry.remove(this, this.#reason ?? CloseReason.InternalError, this.#initiator);
    if (ev !== null) channels.close.publish(ev);
  }

  #closeEvent(): CloseEvent {
    const now = this.ctx.clock.now();
    this.ctx.registry.sampleOne(this, now);
    return {
      conn: this,
      reason: this.#reason ?? CloseReason.InternalError,
      initiator: this.#initiator,
      firstSide: this.#firstSide,
      endKind: this.#endKind,
      phase: this.#closePhase,
      durationMs: now - this.incomingStartTime,
      idleAtCloseMs: Math.max(0, now - (this.#activityAtDecision >= 0 ? this.#activityAtDecision : this.lastActivity)),
      bytesFromClient: this.client.bytesRead,
      bytesToClient: this.client.bytesWritten,
      target: this.target,
      error: this.#errorCode,
      ...this.story.closeFields(),
      ...this.#mode?.describe?.(this),
    };
  }
}
