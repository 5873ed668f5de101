/**
 * The lifecycle sweep (DESIGN §2.3–2.4): one pass over the registry samples socket byte counters
 * (activity, no per-chunk work) and applies every lifecycle rule: age cap, half-zombie, stuck,
 * socket timeout, idle timeout with the `extended` warning-then-grace path.
 *
 * Half-close vs half-zombie: after one side ends (FIN or close) the connection is a legitimate
 * half-close while bytes keep moving in the open direction or the other FIN arrives; it becomes
 * a half-zombie only when nothing has moved for the grace, counted from the later of "the side
 * went away" and "the last byte moved".
 */
import { CloseReason, Phase } from '../core/close-reasons.js';
import { channels } from '../core/channels.js';
import { F, type Connection } from './connection.js';
import type { ProxyContext } from './context.js';

/** Sample every connection; with `check`, apply the lifecycle rules too. Returns kills. */
export function sweep(ctx: ProxyContext, now: number, check: boolean): number {
  const reg = ctx.registry;
  let killed = 0;
  for (const c of reg.live.values()) {
    reg.sampleOne(c, now);
    if (check && (c.phase === Phase.Tunnel || c.phase === Phase.Handler) && checkOne(c, now)) killed++;
  }
  return killed;
}

/** Apply the rules to one connection; true when it was closed. */
export function checkOne(c: Connection, now: number): boolean {
  const t = c.timeouts;
  const lc = c.ctx.options.lifecycle;
  const idle = now - c.lastActivity;
  if (t.ageCapMs !== null && now - c.incomingStartTime >= t.ageCapMs) {
    c.close(CloseReason.Lifetime);
    return true;
  }
  const b = c.backend;
  if (b !== null) {
    if (c.halfClosedAt !== 0 && (c.flags & (F.ClientGone | F.BackendGone)) !== (F.ClientGone | F.BackendGone)) {
      const grace = c.isTLS ? lc.halfZombieGraceTls : lc.halfZombieGrace;
      if (grace > 0 && now - Math.max(c.halfClosedAt, c.lastActivity) >= grace) {
        c.close(CloseReason.HalfZombie);
        return true;
      }
    }
    const stuck = c.isTLS ? lc.stuckThresholdTls : lc.stuckThreshold;
    // Stuck: the client spoke, the backend never answered, and nothing has moved since.
    if (stuck > 0 && b.bytesRead === 0 && c.client.bytesRead > 0 && idle >= stuck) {
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
