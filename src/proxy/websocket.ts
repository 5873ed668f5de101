/**
 * WebSocket after a 101 on an HTTP route (DESIGN §1 L4). The bytes keep flowing through the byte
 * pump unchanged, but each direction goes through a frame scanner so the proxy knows what the
 * peers say: close frames and their codes, message sizes (`maxPayloadSize`) and pongs.
 *
 * Heartbeat (compat §3): every `pingInterval` the proxy pings the client, between two frames of
 * the backend→client stream, and closes a client that has not answered within `pingTimeout`
 * (reason `heartbeat_timeout`, close frame 1001 to both peers). The proxy's own pongs never
 * reach the backend. This file is the only place Sightline pings: it runs only where Sightline
 * parses the frames, so a passthrough or TCP route is never pinged, whatever its options say.
 *
 * The upgraded upstream socket left the pool when it was upgraded: no pool rule (idle timeout,
 * age cap) touches it while the stream lives. Node's HTTP server timeouts do not exist here:
 * Sightline parses HTTP itself and its HTTP timers stop at the upgrade.
 */
import { CloseReason, EndKind, Initiator, Phase, type CloseReason as Reason } from '../core/close-reasons.js';
import { CLOSE_REASON_TABLE } from '../core/close-reason-table.js';
import { FaultSite } from '../core/channels.js';
import { SightlineError } from '../core/errors.js';
import { websocketDefaults, type WebSocketOptions } from '../config/schema.js';
import {
  WsFrameScanner,
  WsOpcode,
  encodeClose,
  encodeFrame,
  parseClosePayload,
  type WsControlFrame,
  type WsScanError,
  type WsScanSink,
} from '../protocol/ws-frames.js';
import type { CompiledRoute } from '../routing/route-table.js';
import { Deadline, kConn, type Connection, type ConnSocket } from '../net/connection.js';
import { Listeners, type ModeHooks } from '../net/mode.js';
import { endBackendWrite, onBackendDrain, onBackendEnd, onClientDrain } from './tunnel.js';

const Timer = { None: 0, Ping: 1, Pong: 2, Closing: 3 } as const;
type TimerKind = (typeof Timer)[keyof typeof Timer];

/** How long peers get to finish the closing handshake after the proxy sent its close frames. */
const CLOSING_GRACE_MS = 1_000;

export class WsRelay {
  readonly fromClient: WsFrameScanner<Connection>;
  readonly fromBackend: WsFrameScanner<Connection>;
  readonly opts: WebSocketOptions;
  readonly heartbeat: boolean;
  timer: TimerKind = Timer.None;
  closeCode: number | null = null;
  closeFrame = false;
  closedBy: 'client' | 'backend' | 'proxy' | null = null;
  /** The proxy decided to end it and sent its close frames; further bytes are dropped. */
  closing = false;
  pingsSent = 0;
  pongsReceived = 0;
  /** Payload of the ping awaiting its pong (null: none outstanding). */
  lastPing: Buffer | null = null;
  /** A ping waits for the end of the backend frame being relayed. */
  pingDue = false;

  constructor(c: Connection, opts: WebSocketOptions) {
    this.opts = opts;
    this.fromClient = new WsFrameScanner({ expectMasked: true, maxPayloadSize: opts.maxPayloadSize, owner: c });
    this.fromBackend = new WsFrameScanner({ expectMasked: false, maxPayloadSize: opts.maxPayloadSize, owner: c });
    this.heartbeat = opts.pingInterval > 0;
  }
}

/** The relay of a connection the WebSocket mode runs on (anything else is a bug: internal_error). */
function relayOf(c: Connection): WsRelay {
  const r = c.modeState;
  if (r instanceof WsRelay) return r;
  throw new Error(`connection ${c.id} has no WebSocket relay`);
}

/**
 * The backend answered 101: `backend` (already detached from the pool) becomes the connection's
 * backend socket and the stream is relayed frame-aware. `fromBackend` / `fromClient` are bytes
 * that arrived right behind the two heads.
 */
export function startWebSocket(
  c: Connection,
  route: CompiledRoute,
  backend: ConnSocket,
  fromBackend: Buffer | null,
  fromClient: Buffer | null,
): void {
  const relay = new WsRelay(c, route.config.action.websocket ?? websocketDefaults);
  c.switchMode(WEBSOCKET, relay);
  c.enter(Phase.Tunnel);
  c.adoptBackend(backend);
  c.backendReady();
  CLIENT.attach(c.client);
  BACKEND.attach(backend);
  if (fromBackend !== null) BACKEND.data!.call(backend, fromBackend);
  if (fromClient !== null) CLIENT.data!.call(c.client, fromClient);
  if (relay.heartbeat) arm(c, relay, Timer.Ping, relay.opts.pingInterval);
  backend.resume();
  c.client.resume();
}

// ---- relay ------------------------------------------------------------------------------------

function onWsClientData(this: ConnSocket, chunk: Buffer): void {
  const c = this[kConn]!;
  const relay = relayOf(c);
  if (relay.closing) return;
  c.story.c2b();
  const err = relay.fromClient.push(chunk, CLIENT_SINK);
  if (err !== null) violation(c, relay, err, Initiator.Client);
}

function onWsBackendData(this: ConnSocket, chunk: Buffer): void {
  const c = this[kConn]!;
  const relay = relayOf(c);
  if (relay.closing) return;
  c.story.b2c();
  const err = relay.fromBackend.push(chunk, BACKEND_SINK);
  if (err !== null) violation(c, relay, err, Initiator.Backend);
}

/** The relay's listeners: its own data listeners, the pump's drain and FIN ones. */
const CLIENT = new Listeners(FaultSite.WebSocket, { data: onWsClientData, drain: onClientDrain });
const BACKEND = new Listeners(FaultSite.WebSocket, { data: onWsBackendData, drain: onBackendDrain, end: onBackendEnd });

// The sinks reach the connection as the scanners' owner (WsRelay): no module-level "current
// connection" to set and clear around each scan.
const CLIENT_SINK: WsScanSink<Connection> = {
  forward(chunk, start, end, owner) {
    const c = owner!;
    if (!c.backend!.write(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end))) c.client.pause();
  },
  control(f, owner) {
    const c = owner!;
    const relay = relayOf(c);
    if (f.opcode === WsOpcode.Pong) {
      const ours = relay.lastPing !== null && f.payload.equals(relay.lastPing);
      if (relay.lastPing !== null) pongReceived(c, relay);
      if (ours) return; // the answer to the proxy's own ping: the backend never asked
    } else if (f.opcode === WsOpcode.Close) noteClose(relay, f, 'client');
    if (!c.backend!.write(f.raw)) c.client.pause();
  },
  boundary() {},
};

const BACKEND_SINK: WsScanSink<Connection> = {
  forward(chunk, start, end, owner) {
    const c = owner!;
    if (!c.client.write(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end))) c.backend!.pause();
  },
  control(f, owner) {
    const c = owner!;
    if (f.opcode === WsOpcode.Close) noteClose(relayOf(c), f, 'backend');
    if (!c.client.write(f.raw)) c.backend!.pause();
  },
  boundary(owner) {
    const c = owner!;
    const relay = relayOf(c);
    if (relay.pingDue) sendPing(c, relay);
  },
};

function noteClose(relay: WsRelay, f: WsControlFrame, side: 'client' | 'backend'): void {
  if (relay.closeFrame) return;
  relay.closeFrame = true;
  relay.closedBy = side;
  const p = parseClosePayload(f.payload);
  relay.closeCode = p === null ? 1002 : (p.code ?? 1005);
}

function violation(c: Connection, relay: WsRelay, err: WsScanError, who: Initiator): void {
  const reason = err.code === 'too-large' ? CloseReason.WsMessageTooLarge : CloseReason.WsProtocolError;
  closeBoth(c, relay, reason, who, err.closeCode, err.detail);
}

/**
 * Is the stream toward the backend (fromClient) / the client (fromBackend) between frames? A
 * scanner that failed never forwarded the bad frame, so its output stream is between frames.
 */
function outputAtBoundary(scanner: WsFrameScanner, failed: boolean): boolean {
  return failed || scanner.atBoundary;
}

/**
 * The proxy ends the WebSocket: close frames to both peers (where the stream is between frames),
 * then FIN, and a short grace for the closing handshake before the sockets are destroyed.
 */
function closeBoth(c: Connection, relay: WsRelay, reason: Reason, who: Initiator, code: number, detail: string): void {
  if (relay.closing) return;
  relay.closing = true;
  c.decide(
    reason,
    who,
    EndKind.Local,
    reason === CloseReason.WsProtocolError || reason === CloseReason.WsMessageTooLarge
      ? new SightlineError('SL_ERR_WEBSOCKET', detail)
      : undefined,
  );
  if (!relay.closeFrame) {
    relay.closeFrame = true;
    relay.closedBy = 'proxy';
    relay.closeCode = code;
  }
  const cl = c.client;
  const b = c.backend;
  const violation = reason === CloseReason.WsProtocolError || reason === CloseReason.WsMessageTooLarge;
  if (!cl.destroyed) {
    if (outputAtBoundary(relay.fromBackend, violation && who === Initiator.Backend))
      cl.write(encodeClose(code, detail, false));
    cl.end();
  }
  if (b !== null && !b.destroyed) {
    if (outputAtBoundary(relay.fromClient, violation && who === Initiator.Client))
      b.write(encodeClose(code, detail, true));
    b.end();
  }
  arm(c, relay, Timer.Closing, CLOSING_GRACE_MS);
}

// ---- heartbeat --------------------------------------------------------------------------------

function arm(c: Connection, relay: WsRelay, kind: TimerKind, ms: number): void {
  relay.timer = kind;
  c.armDeadline(Deadline.Mode, ms);
}

function sendPing(c: Connection, relay: WsRelay): void {
  relay.pingDue = false;
  relay.pingsSent++;
  const payload = Buffer.from(`sightline:${c.id}:${relay.pingsSent}`, 'latin1');
  relay.lastPing = payload;
  c.client.write(encodeFrame(WsOpcode.Ping, payload, false));
  arm(c, relay, Timer.Pong, relay.opts.pingTimeout);
}

function pongReceived(c: Connection, relay: WsRelay): void {
  relay.lastPing = null;
  relay.pongsReceived++;
  if (relay.timer === Timer.Pong) arm(c, relay, Timer.Ping, relay.opts.pingInterval);
}

function onTimer(c: Connection): void {
  const relay = relayOf(c);
  const kind = relay.timer;
  relay.timer = Timer.None;
  switch (kind) {
    case Timer.Ping:
      // Between frames: ping now. Mid-frame: at the next boundary (the stream is busy anyway).
      if (relay.fromBackend.atBoundary) sendPing(c, relay);
      else {
        relay.pingDue = true;
        relay.fromBackend.wantBoundary = true;
      }
      return;
    case Timer.Pong:
      closeBoth(c, relay, CloseReason.HeartbeatTimeout, Initiator.Proxy, 1001, 'heartbeat timeout');
      return;
    case Timer.Closing:
      c.close(c.reason ?? CloseReason.Shutdown);
      return;
  }
}

const WEBSOCKET: ModeHooks = {
  name: 'websocket',
  site: FaultSite.WebSocket,
  deadline: onTimer,
  clientEnd: endBackendWrite,
  drain(c) {
    closeBoth(c, relayOf(c), CloseReason.Shutdown, Initiator.Proxy, 1001, 'proxy shutting down');
  },
  refine(c, reason, initiator) {
    // Plain peer ends (the table's `peer-end`) are renamed by whether the closing handshake was seen.
    if (CLOSE_REASON_TABLE[reason].cause !== 'peer-end') return { reason, initiator };
    const relay = relayOf(c);
    if (!relay.closeFrame) return { reason: CloseReason.WsAbnormalClose, initiator };
    return {
      reason: CloseReason.WsClosed,
      initiator:
        relay.closedBy === 'backend' ? Initiator.Backend : relay.closedBy === 'client' ? Initiator.Client : initiator,
    };
  },
  describe(c) {
    const r = relayOf(c);
    return {
      websocket: {
        closeCode: r.closeFrame ? (r.closeCode ?? 1005) : 1006,
        closeFrame: r.closeFrame,
        closedBy: r.closedBy,
        pingsSent: r.pingsSent,
        pongsReceived: r.pongsReceived,
      },
    };
  },
};
