/**
 * Backend side: resolve the route's target (host list round-robin, functions of the connection
 * context, `port: 'preserve'`), open the socket with the proxy's TCP options (TLS for
 * re-encrypting routes), and name why a connect failed. The modes (proxy/tunnel.ts, the HTTP
 * upstream pool) decide when to connect and own the socket's flow listeners.
 */
import net from 'node:net';
import tls from 'node:tls';
import { CloseReason } from '../core/close-reasons.js';
import type { CompiledRoute } from '../routing/route-table.js';
import type { TargetContext } from '../config/types.js';
import { tlsMaterialOf } from '../config/tls-material.js';
import type { Connection, ConnSocket } from './connection.js';
import type { ProxyContext } from './context.js';
import { isResourceExhaustion } from './resources.js';
import { isDnsFailure } from './socket-errors.js';

export interface ResolvedTarget {
  readonly host: string;
  readonly port: number;
}

/** What a target function and a socket handler are told about the connection. */
export function targetContext(c: Connection, route: CompiledRoute): TargetContext {
  return {
    connectionId: c.id,
    port: c.listenPort,
    clientIp: c.clientIP,
    serverName: c.serverName,
    routeName: route.name,
    isTls: c.isTLS,
  };
}

/** The target for this connection, or an error message when the route cannot give one. */
export function resolveTarget(c: Connection, route: CompiledRoute): ResolvedTarget | string {
  try {
    return resolveTargetOrThrow(c, route);
  } catch (err) {
    return `target function threw: ${(err as Error).message}`;
  }
}

function resolveTargetOrThrow(c: Connection, route: CompiledRoute): ResolvedTarget | string {
  const t = route.config.action.target;
  if (t === undefined) return `route "${route.name}" has no target`;
  let ctx: TargetContext | undefined;
  let host: unknown = t.host;
  if (typeof host === 'function') host = host((ctx = targetContext(c, route)));
  if (Array.isArray(host)) {
    if (host.length === 0) return 'target host list is empty';
    host = host[route.rrCursor++ % host.length];
    if (route.rrCursor >= Number.MAX_SAFE_INTEGER) route.rrCursor = 0;
  }
  if (typeof host !== 'string' || host === '') return 'target host is not a non-empty string';
  let port: unknown = t.port;
  if (port === 'preserve') port = c.listenPort;
  else if (typeof port === 'function') port = port(ctx ?? targetContext(c, route));
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    return `target port ${String(port)} is not a valid port`;
  }
  return { host, port };
}

/** The CA a re-encrypting route trusts for its backend, read when the configuration was loaded. */
function backendCa(route: CompiledRoute): string | undefined {
  const t = route.config.action.tls;
  return t === undefined ? undefined : (tlsMaterialOf(t)?.backendCa ?? t.ca);
}

/**
 * Open a socket to the target: TCP, or TLS for re-encrypting routes (verification on unless the
 * route opts out). `ready` is the event that says the socket can carry bytes.
 */
export function openBackendSocket(
  o: ProxyContext['options'],
  route: CompiledRoute,
  target: ResolvedTarget,
  clientServerName: string | null,
): { socket: ConnSocket; ready: 'connect' | 'secureConnect' } {
  const common = {
    host: target.host,
    port: target.port,
    allowHalfOpen: true,
    noDelay: o.noDelay,
    keepAlive: o.keepAlive,
    keepAliveInitialDelay: o.keepAliveInitialDelay,
  };
  const reencrypt = route.tlsMode === 'terminate-and-reencrypt' ? route.config.action.tls : undefined;
  const b = (
    reencrypt === undefined
      ? net.connect(common)
      : tls.connect({
          ...common,
          // The configured name, else the target's name, else the client's SNI (targets given by IP).
          servername:
            reencrypt.servername ?? (net.isIP(target.host) === 0 ? target.host : (clientServerName ?? undefined)),
          ca: backendCa(route),
          rejectUnauthorized: reencrypt.rejectUnauthorized,
          minVersion: reencrypt.minVersion,
          maxVersion: reencrypt.maxVersion,
        })
  ) as ConnSocket;
  return { socket: b, ready: reencrypt === undefined ? 'connect' : 'secureConnect' };
}

/**
 * Why a backend connect failed: the proxy out of descriptors / ports, the name did not resolve,
 * refused / unreachable, or a TLS handshake / trust failure.
 */
export function connectFailure(
  err: NodeJS.ErrnoException,
):
  | typeof CloseReason.BackendTlsError
  | typeof CloseReason.BackendConnectFailed
  | typeof CloseReason.LocalResourceExhausted
  | typeof CloseReason.BackendDnsFailed {
  const code = err.code;
  if (isResourceExhaustion(code)) return CloseReason.LocalResourceExhausted;
  if (isDnsFailure(code)) return CloseReason.BackendDnsFailed;
  const tls =
    code !== undefined && (TLS_VERIFY_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'));
  return tls ? CloseReason.BackendTlsError : CloseReason.BackendConnectFailed;
}

/** OpenSSL verification failures reported when a re-encrypting backend is not trusted. */
const TLS_VERIFY_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
]);
