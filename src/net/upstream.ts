/**
 * Backend side: resolve the route's target (host list round-robin, functions of the connection
 * context, `port: 'preserve'`) and connect with TCP options and a deadline on the shared wheel.
 */
import net from 'node:net';
import tls from 'node:tls';
import { CloseReason, Initiator, Phase } from '../core/close-reasons.js';
import { SightlineError } from '../core/errors.js';
import type { CompiledRoute } from '../routing/route-table.js';
import type { TargetContext } from '../config/types.js';
import { tlsMaterialOf } from '../config/tls-material.js';
import { Deadline, kConn, type Connection, type ConnSocket } from './connection.js';
import type { ProxyContext } from './context.js';
import { onBackendClose, onBackendConnect, onBackendError } from './pump.js';

export interface ResolvedTarget {
  readonly host: string;
  readonly port: number;
}

function targetContext(c: Connection, route: CompiledRoute): TargetContext {
  return {
    connectionId: c.id,
    port: c.listenPort,
    clientIp: c.remoteIP,
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
          servername: reencrypt.servername ?? (net.isIP(target.host) === 0 ? target.host : (clientServerName ?? undefined)),
          ca: backendCa(route),
          rejectUnauthorized: reencrypt.rejectUnauthorized,
          minVersion: reencrypt.minVersion,
          maxVersion: reencrypt.maxVersion,
        })
  ) as ConnSocket;
  return { socket: b, ready: reencrypt === undefined ? 'connect' : 'secureConnect' };
}

export function connectUpstream(c: Connection, route: CompiledRoute): void {
  const target = resolveTarget(c, route);
  if (typeof target === 'string') {
    c.close(CloseReason.TargetResolutionFailed, Initiator.Proxy, 'local', new SightlineError('SL_ERR_TARGET', target));
    return;
  }
  const o = c.ctx.options;
  c.target = `${target.host}:${target.port}`;
  c.phase = Phase.Connecting;
  c.connectStart = c.ctx.clock.now();
  const { socket: b, ready } = openBackendSocket(o, route, target, c.serverName);
  b[kConn] = c;
  c.backend = b;
  b.on('error', onBackendError);
  b.on('close', onBackendClose);
  b.once(ready, onBackendConnect);
  c.armDeadline(Deadline.Connect, o.connectionTimeout);
}
