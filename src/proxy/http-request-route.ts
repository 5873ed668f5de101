/**
 * Where a parsed request goes, or why it is refused: decided here from the head, the connection
 * and the route table, acted on by http-session.ts (which answers a refusal with its status).
 * Keeping the decision apart keeps the order of the checks in one readable place.
 */
import { CloseReason, Initiator, type CloseReason as Reason } from '../core/close-reasons.js';
import type { ErrorCode } from '../core/errors.js';
import { nominatedFraming, type HeadError, type RequestHead } from '../protocol/http-head.js';
import { isPathError, parseTarget, type TargetFacts } from '../routing/path-normalize.js';
import type { CompiledRoute, HttpFacts } from '../routing/route-table.js';
import type { Connection } from '../net/connection.js';
import { resolveTarget, type ResolvedTarget } from '../net/upstream.js';
import { requestFacts } from './http-state.js';

export interface Refusal {
  readonly status: number;
  readonly reason: Reason;
  readonly who: Initiator;
  /** Close the client connection after the answer (the stream cannot be trusted any more). */
  readonly close: boolean;
  readonly detail?: string;
  readonly code?: ErrorCode;
  /** The route the request matched, when the refusal came after routing (the request event names it). */
  readonly route?: CompiledRoute;
}

export interface Routed {
  readonly route: CompiledRoute;
  readonly target: ResolvedTarget;
  /** The request-target as routing saw it (normalised path, authority of an absolute form). */
  readonly t: TargetFacts;
  readonly facts: HttpFacts;
}

const refuse = (
  status: number,
  reason: Reason,
  who: Initiator,
  close: boolean,
  detail?: string,
  code?: ErrorCode,
  route?: CompiledRoute,
): Refusal => ({
  status,
  reason,
  who,
  close,
  detail,
  code,
  route,
});

export const isRefusal = (r: Routed | Refusal): r is Refusal => 'status' in r;

/** The close reason of a head the parser refused. */
export function headErrorReason(e: HeadError): Reason {
  if (e.code === 'too-large' || e.code === 'too-many-headers') return CloseReason.HttpHeadersTooLarge;
  if (e.code === 'smuggling') return CloseReason.HttpRequestSmuggling;
  return e.code === 'nominated' ? CloseReason.HttpNominatedField : CloseReason.HttpBadRequest;
}

/** `entry`: the route the connection was given (it chose the certificate the client checked). */
export function routeRequest(c: Connection, entry: CompiledRoute, head: RequestHead): Routed | Refusal {
  const ctx = c.ctx;
  const table = ctx.table;
  if (table.routingHeaders.size > 0 && head.connectionTokens.length > 0) {
    const named = nominatedFraming(head.connectionTokens, table.routingHeaders);
    if (named !== null)
      return refuse(
        400,
        CloseReason.HttpNominatedField,
        Initiator.Client,
        true,
        `Connection names ${named}, a field routes match on`,
      );
  }
  const t =
    head.method === 'CONNECT'
      ? { authority: null, path: '/', target: head.target }
      : parseTarget(head.target, ctx.options.http.path);
  if (isPathError(t)) return refuse(400, CloseReason.HttpBadPath, Initiator.Client, true, t.error);
  const facts = requestFacts(head, t);
  const route = table.matchRequest(c.listenPort, c.remoteIP, entry, facts, c.serverName);
  if (route === null) return refuse(404, CloseReason.NoRoute, Initiator.Proxy, false);
  // The route's IP lists hold per request: a path-routed admin route must not be reachable
  // through a connection that an open route admitted.
  if (!ctx.admission.ipAllowed(c, route))
    return refuse(403, CloseReason.RouteIpBlocked, Initiator.Proxy, false, undefined, undefined, route);
  // A reverse proxy does not open tunnels on request.
  if (head.method === 'CONNECT')
    return refuse(
      405,
      CloseReason.HttpBadRequest,
      Initiator.Client,
      true,
      'CONNECT is not served by a reverse proxy',
      undefined,
      route,
    );
  // The certificate the client checked must be the one for the host it asks for (RFC 9110 §15.5.20).
  if (
    entry.certificateKey !== null &&
    route.certificateKey !== entry.certificateKey &&
    entry.config.action.tls?.allowMisdirected !== true
  ) {
    return refuse(
      421,
      CloseReason.HttpMisdirectedRequest,
      Initiator.Client,
      false,
      `Host ${facts.host ?? ''} is served by another certificate than SNI ${c.serverName ?? '(none)'}`,
      undefined,
      route,
    );
  }
  const target = resolveTarget(c, route);
  if (typeof target === 'string')
    return refuse(502, CloseReason.TargetResolutionFailed, Initiator.Proxy, false, target, 'SL_ERR_TARGET', route);
  return { route, target, t, facts };
}
