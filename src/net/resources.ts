/**
 * Running out of descriptors or local ports is the proxy's own trouble, and is named so
 * (issue 11 point 4):
 *
 * - A backend connect that fails with EMFILE / ENFILE / EADDRNOTAVAIL / ENOBUFS / ENOMEM closes
 *   with `local_resource_exhausted`, initiator proxy (not `backend_connect_failed`: the backend
 *   is fine).
 * - Accept errors are published (telemetry counts them and logs at most one line a second)
 *   instead of being swallowed. libuv hides most accept-side EMFILE: it accepts and closes the
 *   queued connections with a reserve descriptor and reports nothing. So descriptor exhaustion
 *   (EMFILE / ENFILE) seen anywhere, an accept error or a backend connect, pauses every listener
 *   of the proxy: new clients wait in (or are refused by) the kernel instead of being accepted
 *   and dropped, and the proxy stops spinning on work it cannot do. Each listener listens again
 *   after a backoff (100 ms, doubling to 2 s while it still fails) on the same address;
 *   connections already open are not touched.
 * - While it lasts (a listener paused, or a connect failed for lack of resources in the last
 *   second), `exhaustedNow()` names the errno and /readyz answers 503 with it.
 */
import type net from 'node:net';
import { channels, type ResourceEvent } from '../core/channels.js';
import type { ProxyContext } from './context.js';

/** Errno codes that mean "this process or host is out of descriptors, ports or buffers". */
const RESOURCE_CODES: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'EADDRNOTAVAIL', 'ENOBUFS', 'ENOMEM']);

export function isResourceExhaustion(code: string | undefined): boolean {
  return code !== undefined && RESOURCE_CODES.has(code);
}

/** How long a connect-side exhaustion keeps /readyz at 503 after it was last seen. */
const CONNECT_READY_HOLD_MS = 1_000;
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 2_000;
/** The listen backlog a paused listener gets back (server.ts listens with the same). */
const BACKLOG = 4096;

/** The errno the proxy is short of right now (null: nothing is exhausted). */
export function exhaustedNow(ctx: ProxyContext, now: number): string | null {
  const e = ctx.exhausted;
  if (e === null) return null;
  if (e.pausedListeners > 0 || now < e.until) return e.code;
  return null;
}

function publish(
  ctx: ProxyContext,
  kind: ResourceEvent['kind'],
  code: string | null,
  port: number | null,
  where: 'accept' | 'connect',
): void {
  if (channels.resource.hasSubscribers) channels.resource.publish({ proxyId: ctx.proxyId, kind, code, port, where });
}

/** The listeners of each proxy (port by server), to pause them all on descriptor exhaustion. */
const listeners = new WeakMap<ProxyContext, Map<net.Server, number>>();
const paused = new WeakSet<net.Server>();
/** Descriptor exhaustion is process-wide; EADDRNOTAVAIL and friends are per destination. */
const DESCRIPTOR_CODES: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE']);

export function trackListener(ctx: ProxyContext, server: net.Server, port: number): void {
  let m = listeners.get(ctx);
  if (m === undefined) listeners.set(ctx, (m = new Map()));
  m.set(server, port);
}

/** A backend connect failed for lack of descriptors or ports. */
export function connectExhausted(ctx: ProxyContext, code: string): void {
  const until = ctx.clock.now() + CONNECT_READY_HOLD_MS;
  if (ctx.exhausted === null) ctx.exhausted = { code, until, pausedListeners: 0 };
  else {
    ctx.exhausted.code = code;
    ctx.exhausted.until = Math.max(ctx.exhausted.until, until);
  }
  publish(ctx, 'exhausted', code, null, 'connect');
  if (DESCRIPTOR_CODES.has(code)) pauseAll(ctx, code);
}

/** The 'error' listener of a proxy listener (errors of its listening socket). */
export function onListenerError(ctx: ProxyContext, port: number, err: NodeJS.ErrnoException): void {
  // Errors of listen() itself belong to whoever called it (server.ts at start, resume() here).
  if (err.syscall !== 'accept') return;
  const code = err.code ?? 'UNKNOWN';
  if (!isResourceExhaustion(code)) {
    publish(ctx, 'accept-error', code, port, 'accept');
    return;
  }
  publish(ctx, 'exhausted', code, port, 'accept');
  if (DESCRIPTOR_CODES.has(code)) pauseAll(ctx, code);
}

function pauseAll(ctx: ProxyContext, code: string): void {
  const m = listeners.get(ctx);
  if (m === undefined) return;
  for (const [server, port] of m) {
    if (!ctx.table.ports.includes(port))
      m.delete(server); // its port left the route table
    else if (server.listening && !paused.has(server)) pause(ctx, server, port, code);
  }
}

function pause(ctx: ProxyContext, server: net.Server, port: number, code: string): void {
  const addr = server.address();
  if (addr === null || typeof addr === 'string') return;
  paused.add(server);
  if (ctx.exhausted === null) ctx.exhausted = { code, until: 0, pausedListeners: 1 };
  else {
    ctx.exhausted.code = code;
    ctx.exhausted.pausedListeners++;
  }
  server.close(); // stops accepting; the open connections are not the listener's to close
  publish(ctx, 'paused', code, port, 'accept');
  const opts = { port: addr.port, host: addr.address, backlog: BACKLOG };
  let delay = BACKOFF_FIRST_MS;
  const done = (): void => {
    paused.delete(server);
    const e = ctx.exhausted;
    if (e !== null && --e.pausedListeners <= 0 && ctx.clock.now() >= e.until) ctx.exhausted = null;
  };
  const resume = (): void => {
    // Stopped, or the port left the route table, while paused: stay closed.
    if (ctx.draining || !ctx.table.ports.includes(port)) return done();
    const onError = (e: NodeJS.ErrnoException): void => {
      // Someone else listens there now (a restarted proxy): this listener is not needed.
      if (e.code === 'EADDRINUSE') return done();
      delay = Math.min(delay * 2, BACKOFF_MAX_MS);
      setTimeout(resume, delay).unref();
    };
    server.once('error', onError);
    server.listen(opts, () => {
      server.removeListener('error', onError);
      done();
      publish(ctx, 'recovered', null, port, 'accept');
    });
  };
  setTimeout(resume, delay).unref();
}
