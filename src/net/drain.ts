/**
 * Drain without a herd (DESIGN §1 L3): when the proxy stops, every open connection is told to
 * finish: an HTTP connection closes after its exchange, a WebSocket gets close 1001, a tunnel is
 * closed. All at once (spreadMs 0, the reference's behaviour: WebSockets at drain start, tunnels at
 * gracefulShutdownTimeout), or spread evenly over `drain.spreadMs` like HAProxy's
 * close-spread-time, so a rolling update does not send every client back in the same second.
 * Every close is recorded as `shutdown` by the proxy. One interval, not a timer per connection.
 */
import { CloseReason, Initiator } from '../core/close-reasons.js';
import type { Connection } from './connection.js';
import type { ProxyContext } from './context.js';

/** Finer steps than this add timer wake-ups without spreading the closes any better. */
const MIN_STEP_MS = 10;

/** Tell one connection the proxy is going away. */
function tell(c: Connection, closeTunnels: boolean): void {
  const m = c.runningMode;
  if (m !== null && m.drain !== undefined) m.drain(c);
  else if (closeTunnels) c.close(CloseReason.Shutdown, Initiator.Proxy);
}

export interface DrainSpread {
  /** Stop telling connections (the drain's deadline passed; the rest are closed by the caller). */
  cancel(): void;
}

/**
 * Start draining the connections open now. With a window, the oldest connection is told first
 * and the last one at `spreadMs`; connections that ended meanwhile are skipped.
 */
export function startDrain(ctx: ProxyContext, spreadMs: number): DrainSpread {
  const queue = [...ctx.registry.live.values()];
  if (spreadMs <= 0 || queue.length === 0) {
    for (const c of queue) tell(c, false);
    return { cancel() {} };
  }
  queue.sort((a, b) => a.incomingStartTime - b.incomingStartTime);
  const started = Date.now();
  const step = Math.max(MIN_STEP_MS, Math.floor(spreadMs / queue.length));
  let next = 0;
  const run = (): void => {
    // Connection i of n is due at (i + 1) / n of the window.
    const due = Math.min(queue.length, Math.floor(((Date.now() - started) / spreadMs) * queue.length) + 1);
    for (; next < due; next++) {
      const c = queue[next]!;
      if (ctx.registry.live.get(c.id) === c) tell(c, true);
    }
    if (next >= queue.length) clearInterval(timer);
  };
  const timer = setInterval(run, step);
  timer.unref();
  run();
  return { cancel: () => clearInterval(timer) };
}

/**
 * The whole drain of stop(): tell every connection (startDrain), wait until they are gone, the
 * `gracefulShutdownTimeout` passed or `hurry()` (a second SIGTERM), then close the rest as
 * `shutdown` and wait a little for their close records.
 */
export async function drainConnections(ctx: ProxyContext, hurry: () => boolean): Promise<void> {
  const o = ctx.options;
  const spread = startDrain(ctx, Math.min(o.drain.spreadMs, o.gracefulShutdownTimeout));
  await waitUntil(() => ctx.registry.size === 0 || hurry(), o.gracefulShutdownTimeout);
  spread.cancel();
  for (const c of [...ctx.registry.live.values()]) c.close(CloseReason.Shutdown, Initiator.Proxy);
  await waitUntil(() => ctx.registry.size === 0, hurry() ? 200 : 2000);
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
