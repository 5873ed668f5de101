/**
 * The lifecycle sweep (DESIGN §2.3–2.4): visits connections, samples socket byte counters
 * (activity, no per-chunk work) and applies every lifecycle rule: age cap, half-zombie, stuck,
 * socket timeout, idle timeout with the `extended` warning-then-grace path.
 *
 * A full pass is spread over the driver's ticks (a live Map iterator resumes where the last tick
 * stopped), so each tick visits only its share and one tick's cost stays small however many
 * connections are open; every connection is still visited once per sweep period.
 *
 * Half-close vs half-zombie: after one side ends (FIN or close) the connection is a legitimate
 * half-close while bytes keep moving in the open direction or the other FIN arrives; it becomes
 * a half-zombie only when nothing has moved for the grace, counted from the later of "the side
 * went away" and "the last byte moved".
 */
import { CloseReason } from '../core/close-reasons.js';
import { carriesBytes } from '../core/phases.js';
import { channels, FaultSite } from '../core/channels.js';
import { maybeFault } from '../core/faults.js';
import { F, type Connection } from './connection.js';
import type { ProxyContext } from './context.js';
import { failConnection } from './mode.js';
import { checkWriteStall } from './write-stall.js';

export class Sweeper {
  readonly #ctx: ProxyContext;
  #it: Iterator<Connection> | null = null;

  constructor(ctx: ProxyContext) {
    this.#ctx = ctx;
  }

  /** Visit up to `count` connections, continuing the current pass. Returns how many it closed. */
  step(now: number, count: number): number {
    let killed = 0;
    for (let i = 0; i < count; i++) {
      this.#it ??= this.#ctx.registry.live.values();
      const r = this.#it.next();
      if (r.done === true) {
        this.#it = null;
        break;
      }
      if (visit(this.#ctx, r.value, now)) killed++;
    }
    return killed;
  }

  /** One whole pass now (tests, `proxy.tick()`). */
  full(now: number): number {
    this.#it = null;
    let killed = 0;
    for (const c of [...this.#ctx.registry.live.values()]) if (visit(this.#ctx, c, now)) killed++;
    return killed;
  }
}

function visit(ctx: ProxyContext, c: Connection, now: number): boolean {
  try {
    maybeFault(FaultSite.Sweep, c);
    ctx.registry.sampleOne(c, now);
    return carriesBytes(c.phase) && checkOne(c, now);
  } catch (err) {
    // One connection's rules threw: that connection ends, the sweep goes on with the others.
    failConnection(c, FaultSite.Sweep, err);
    return true;
  }
}

/** Apply the rules to one freshly sampled connection; true when it was closed. */
function checkOne(c: Connection, now: number): boolean {
  const t = c.timeouts;
  const lc = c.ctx.options.lifecycle;
  const idle = now - c.lastActivity;
  if (t.ageCapMs !== null && now - c.incomingStartTime >= t.ageCapMs) {
    c.close(CloseReason.Lifetime);
    return true;
  }
  if (checkWriteStall(c, now)) return true;
  if (c.backend !== null) {
    if (c.halfClosedAt !== 0 && (c.flags & (F.ClientGone | F.BackendGone)) !== (F.ClientGone | F.BackendGone)) {
      const grace = c.isTLS ? lc.halfZombieGraceTls : lc.halfZombieGrace;
      if (grace > 0 && now - Math.max(c.halfClosedAt, c.lastActivity) >= grace) {
        c.close(CloseReason.HalfZombie);
        return true;
      }
    }
    const stuck = c.isTLS ? lc.stuckThresholdTls : lc.stuckThreshold;
    // Stuck: the client spoke, the backend never answered, and nothing has moved since.
    if (stuck > 0 && c.backendBytesSeen === 0 && c.clientBytesSeen > 0 && idle >= stuck) {
      c.close(CloseReason.Stuck);
      return true;
    }
  }
  if (t.socketTimeoutMs !== null && idle >= t.socketTimeoutMs) {
    c.close(CloseReason.SocketTimeout);
    return true;
  }
  if (t.idleMs === null) return false;
  if (idle < t.idleMs) {
    if (c.warnedAt !== 0) {
      c.warnedAt = 0;
      publish(c, 'idle-warning-cleared', { idleMs: idle });
    }
    return false;
  }
  if (t.warningGraceMs === null) {
    c.close(CloseReason.Inactivity);
    return true;
  }
  if (c.warnedAt === 0) {
    c.warnedAt = now;
    publish(c, 'idle-warning', { idleMs: idle, idleTimeoutMs: t.idleMs, graceMs: t.warningGraceMs });
    return false;
  }
  if (now - c.warnedAt >= t.warningGraceMs) {
    c.close(CloseReason.Inactivity);
    return true;
  }
  return false;
}

function publish(c: Connection, kind: string, detail: Record<string, unknown>): void {
  if (channels.lifecycle.hasSubscribers) channels.lifecycle.publish({ conn: c, kind, detail });
}
