/**
 * Structured logs (pino) for lifecycle moments, as a subscriber of the core's channels
 * (DESIGN §1, §3): the data path never calls the logger. One logger per proxy; events of other
 * proxies in the same process are ignored. Subscriber errors are swallowed and counted, never
 * thrown into the data path (DESIGN §2.9).
 */
import diagnostics from 'node:diagnostics_channel';
import pino, { type Logger } from 'pino';
import { CHANNEL_NAMES, type CloseEvent, type LifecycleEvent, type ProxyEvent } from '../core/channels.js';
import type { ResolvedOptions } from '../config/schema.js';

export function createLogger(o: ResolvedOptions['telemetry']['logging']): Logger {
  const dest = o.destination;
  const stream =
    dest === 'stdout' ? pino.destination(1) : dest === 'stderr' ? pino.destination(2) : pino.destination({ dest, mkdir: true, sync: false });
  return pino({ level: o.level, base: { service: 'sightline' } }, stream);
}

export interface LogSubscription {
  readonly errors: number;
  close(): void;
}

/** Log lifecycle warnings and proxy events of proxy `proxyId`; with `detailed`, one line per close. */
export function subscribeLogs(logger: Logger, proxyId: number, detailed: boolean): LogSubscription {
  let errors = 0;
  const guard =
    <T>(fn: (m: T) => void) =>
    (m: unknown): void => {
      try {
        fn(m as T);
      } catch {
        errors++;
      }
    };
  const onLifecycle = guard<LifecycleEvent>((e) => {
    if (e.conn.proxyId !== proxyId) return;
    const fields = { event: e.kind, connectionId: e.conn.id, route: e.conn.routeName, client: e.conn.remoteIP, ...e.detail };
    if (e.kind === 'idle-warning') logger.warn(fields, 'connection idle past its timeout: closing after the grace unless it wakes up');
    else logger.info(fields, e.kind);
  });
  const onProxy = guard<ProxyEvent>((e) => {
    if (e.detail?.proxyId !== proxyId) return;
    logger.info({ event: `proxy-${e.kind}`, ...e.detail }, `proxy ${e.kind}`);
  });
  const onClose = guard<CloseEvent>((e) => {
    if (e.conn.proxyId !== proxyId) return;
    logger.info(
      {
        event: 'connection-closed',
        connectionId: e.conn.id,
        route: e.conn.routeName,
        client: e.conn.remoteIP,
        sni: e.conn.serverName,
        target: e.target,
        reason: e.reason,
        initiator: e.initiator,
        firstSide: e.firstSide,
        endKind: e.endKind,
        phase: e.phase,
        durationMs: e.durationMs,
        idleAtCloseMs: e.idleAtCloseMs,
        bytesIn: e.bytesFromClient,
        bytesOut: e.bytesToClient,
        error: e.error,
      },
      'connection closed',
    );
  });
  diagnostics.subscribe(CHANNEL_NAMES.lifecycle, onLifecycle);
  diagnostics.subscribe(CHANNEL_NAMES.proxy, onProxy);
  if (detailed) diagnostics.subscribe(CHANNEL_NAMES.close, onClose);
  return {
    get errors() {
      return errors;
    },
    close() {
      diagnostics.unsubscribe(CHANNEL_NAMES.lifecycle, onLifecycle);
      diagnostics.unsubscribe(CHANNEL_NAMES.proxy, onProxy);
      if (detailed) diagnostics.unsubscribe(CHANNEL_NAMES.close, onClose);
    },
  };
}
