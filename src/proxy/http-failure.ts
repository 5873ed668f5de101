/**
 * How an HTTP exchange fails (http-session.ts drives it): the proxy's own 4xx/5xx while no response
 * reached the client, an abort once one did, and the mode's timers, each of which ends an exchange
 * (or the idle connection) with its reason. Nothing here runs for an exchange that completes.
 *
 * What a failure continues with (the next request, or the end of the client connection) is the
 * session's: it comes in as `SessionOps`, an object http-session.ts builds once. Importing that
 * file here would make a module cycle: the session calls fail(), and fail() continues the session.
 */
import { CloseReason, EndKind, Initiator, type CloseReason as Reason } from '../core/close-reasons.js';
import { SightlineError, type ErrorCode } from '../core/errors.js';
import { proxyResponse } from '../protocol/http-rewrite.js';
import { Deadline, type Connection } from '../net/connection.js';
import { Doubt } from './upstream-lease.js';
import type { ResponseOps } from './http-response.js';
import { HttpSession, Req, Timer, bodyTimedOut, clearExchange, disarm, publishRequest, session } from './http-state.js';

/** The session's steps a failure, a timer or the response side calls back (http-session.ts). */
export interface SessionOps extends ResponseOps {
  /** The exchange is over: read the next request, or end the client connection if it must close. */
  nextRequest(c: Connection, s: HttpSession): void;
  /** Close the client side once the last answer is written. */
  endClient(c: Connection, s: HttpSession): void;
}

/** The mode's deadline hook: the session's one timer fired (or was moved later: re-armed). */
export function onTimer(ops: SessionOps, c: Connection): void {
  const s = session(c);
  s.wheelAt = 0;
  const kind = s.timer;
  if (kind === Timer.None) return;
  const now = c.ctx.clock.now();
  if (now < s.timerAt) {
    c.armDeadline(Deadline.Mode, s.timerAt - now);
    s.wheelAt = s.timerAt;
    return;
  }
  s.timer = Timer.None;
  switch (kind) {
    case Timer.Idle:
      c.close(CloseReason.HttpKeepAliveTimeout, Initiator.Proxy);
      return;
    case Timer.Head:
      fail(ops, c, s, 408, CloseReason.HttpHeadersTimeout, Initiator.Client, true);
      return;
    case Timer.Connect:
      fail(ops, c, s, 504, CloseReason.BackendConnectTimeout, Initiator.Proxy, false);
      return;
    case Timer.Queue:
      if (s.route !== null && s.target !== null) s.pools.cancel(c, s.route, s.target);
      fail(ops, c, s, 503, CloseReason.HttpUpstreamBusy, Initiator.Proxy, false);
      return;
    case Timer.Response:
      fail(ops, c, s, 504, CloseReason.HttpResponseTimeout, Initiator.Backend, false);
      return;
    case Timer.Body:
      return void bodyTimedOut(c, s, ops);
  }
}

/** Drop the current upstream socket (its exchange cannot complete). */
export function abandonUpstream(c: Connection, s: HttpSession): void {
  const up = s.up;
  s.up = null;
  if (up !== null) s.pools.release(up, Doubt.Aborted);
  else if (s.state === Req.Wait && s.route !== null && s.target !== null) s.pools.cancel(c, s.route, s.target);
}

/**
 * The exchange failed before a response reached the client: answer with `status` (naming the
 * reason), then keep the connection for the next request unless `close` or the request body
 * was not read to its end. After a response head was sent, the connection is aborted instead.
 */
export function fail(
  ops: SessionOps,
  c: Connection,
  s: HttpSession,
  status: number,
  reason: Reason,
  who: Initiator,
  close: boolean,
  detail?: string,
  code?: ErrorCode,
): void {
  if (s.status !== 0) return void abort(c, s, reason, detail);
  abandonUpstream(c, s);
  disarm(c, s);
  s.status = status;
  s.error = detail ?? null;
  publishRequest(c, s, reason);
  // A request whose body was not read to its end leaves the stream unusable: close after.
  if (close || s.reqBody !== null || s.state === Req.Head) {
    if (close || !s.closeAfter) {
      s.closeAfter = true;
      s.closeReason = reason;
      s.closeInitiator = who;
    }
    const err =
      detail === undefined
        ? undefined
        : new SightlineError(
            code ?? (who === Initiator.Client ? 'SL_ERR_HTTP_REQUEST' : 'SL_ERR_HTTP_RESPONSE'),
            detail,
          );
    c.decide(s.closeReason, s.closeInitiator, EndKind.Local, err);
  }
  c.client.write(proxyResponse(status, reason, s.closeAfter), 'latin1');
  if (s.closeAfter) {
    clearExchange(s);
    ops.endClient(c, s);
  } else ops.nextRequest(c, s);
}

/** Mid-response failure: nothing sensible can be sent any more; abort both sides. */
export function abort(c: Connection, s: HttpSession, reason: Reason, detail?: string): void {
  publishRequest(c, s, reason);
  abandonUpstream(c, s);
  c.close(
    reason,
    Initiator.Backend,
    reason === CloseReason.BackendReset ? EndKind.Rst : EndKind.Error,
    detail === undefined ? undefined : new SightlineError('SL_ERR_HTTP_RESPONSE', detail),
  );
}
