/**
 * Fault isolation (DESIGN §1 L4: "an exception in a mode closes that connection only").
 *
 * Socket listeners, timers and pool callbacks of the data path are registered through
 * `guarded(site, fn)`: one try/catch per event, no closure per connection (the wrapper is built
 * once per listener, at module load). An exception closes the connection the event belongs to
 * with `internal_error` (Connection.fail: initiator proxy, the record completes even when the
 * throw came from a 'close' listener) and is published on `sightline:internal-error` with its
 * site; telemetry counts it (`sightline_internal_errors_total{site}`) and logs the stack,
 * rate-limited per site. Every other connection is untouched.
 *
 * Tests prove each site with core/faults.ts `injectFaults()`.
 */
import { channels, type FaultSite } from '../core/channels.js';
import { faultInjector } from '../core/faults.js';
import { kConn, type Connection, type ConnSocket } from './connection.js';

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
      if (c !== null) c.fail(site, err, this);
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
