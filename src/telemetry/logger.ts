/**
 * Structured logs (pino) as a subscriber of the core's channels (DESIGN §1, §3): the data path
 * never calls the logger. One logger per proxy; events of other proxies in the same process are
 * ignored. Subscriber errors are swallowed and counted, never thrown into the data path.
 *
 * - Access log: one line per connection at close (every connection that was not refused), with
 *   its trace and span id when tracing is on.
 * - Refusals (IP lists, limits) can come in floods: the first few of each 10 s window are logged
 *   one by one, the rest only as a summary line with counts by reason.
 * - Lifecycle moments (idle warning, heartbeat miss, zombie detection, pattern detected, drain)
 *   as warnings or info records, with trace ids.
 */
import diagnostics from 'node:diagnostics_channel';
import { openSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { SightlineError } from '../core/errors.js';
import {
  CHANNEL_NAMES,
  type CloseEvent,
  type ConnectionView,
  type InternalErrorEvent,
  type LifecycleEvent,
  type ProxyEvent,
  type ResourceEvent,
} from '../core/channels.js';
import { isRejection } from '../core/close-reasons.js';
import { closeReasonInfo } from '../core/close-reason-table.js';
import type { ResolvedOptions } from '../config/schema.js';
import { progressFields, type ProgressRecord } from './progress.js';
import { correlationFields } from './correlation.js';

/**
 * A pino logger on a buffered destination: lines are written in 4 KiB batches (one write per
 * dozen access lines instead of one each), flushed at least every second by the telemetry sweep
 * and at stop.
 */
export function createLogger(o: ResolvedOptions['telemetry']['logging']): Logger {
  const dest = o.destination;
  // maxLength: a destination that stops reading (a stalled pipe to a log shipper) holds at most
  // 16 MiB of lines, then lines are dropped: the proxy's memory is not the log's buffer.
  const buffered = { sync: false, minLength: 4096, maxLength: 16 * 1024 * 1024 };
  const fd = dest === 'stdout' ? 1 : dest === 'stderr' ? 2 : openLogFile(dest);
  return pino({ level: o.level, base: { service: 'sightline' } }, pino.destination({ dest: fd, ...buffered }));
}

/**
 * Opens a log file for appending now, so an unwritable destination fails start() with the key
 * named (the CLI exits 2) instead of every line being dropped later. Directories are not
 * created: a typo in the path should not grow a directory tree.
 */
function openLogFile(path: string): number {
  try {
    return openSync(path, 'a', 0o640);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'its directory does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : (code ?? (err as Error).message);
    throw new SightlineError(
      'SL_ERR_CONFIG_INVALID',
      `telemetry.logging.destination: cannot open ${path} for writing (${why})`,
      { cause: err },
    );
  }
}

const kFlushing = Symbol('sightline.flushing');
type FlushableLogger = Logger & { [kFlushing]?: boolean };

/**
 * The periodic flush: write out what the logger holds unless the previous flush has not finished.
 * Each flush that finds the destination still writing waits on its 'drain'; flushing every second
 * into a stalled destination would add a listener a second (Node's leak warning) for nothing.
 */
export function flushPeriodically(logger: Logger): void {
  const l = logger as FlushableLogger;
  if (l[kFlushing] === true) return;
  l[kFlushing] = true;
  try {
    logger.flush(() => {
      l[kFlushing] = false;
    });
  } catch {
    l[kFlushing] = false;
  }
}

/** Write out what the logger holds (resolves when written; never rejects). */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}

export interface LogOptions {
  readonly proxyId: number;
  /** Also log every refusal one by one (the seed's enableDetailedLogging). */
  readonly detailed: boolean;
  /** The connection's current span, for trace ids in log records (tracing on). */
  readonly spanContextOf?: (conn: ConnectionView) => { traceId: string; spanId: string } | null;
  /** Refusals logged one by one per window before only the summary counts them. */
  readonly rejectionBurst?: number;
  readonly rejectionWindowMs?: number;
  /** Internal-error stacks: at most one per site per window (the rest are counted in the next). */
  readonly faultWindowMs?: number;
}

export interface LogSubscription {
  readonly errors: number;
  /** Called from the proxy's sweep tick: emits the refusal summary when a window is over. */
  sweep(): void;
  /** A disconnect pattern was detected (from the detector beside). */
  pattern(fields: Record<string, unknown>, summary: string): void;
  /** A long-lived connection's progress record (progress.ts). */
  progress(r: ProgressRecord): void;
  close(): void;
}

export function subscribeLogs(logger: Logger, o: LogOptions): LogSubscription {
  let errors = 0;
  const burst = o.rejectionBurst ?? 5;
  const windowMs = o.rejectionWindowMs ?? 10_000;
  let windowStart = 0;
  let logged = 0;
  let suppressed = new Map<string, number>();

  const guard =
    <T>(fn: (m: T) => void) =>
    (m: unknown): void => {
      try {
        fn(m as T);
      } catch {
        errors++;
      }
    };
  const traceFields = (conn: ConnectionView): Record<string, string> => {
    const sc = o.spanContextOf?.(conn) ?? null;
    return sc === null ? {} : { traceId: sc.traceId, spanId: sc.spanId };
  };
  const flush = (now: number): void => {
    if (suppressed.size > 0) {
      let total = 0;
      for (const n of suppressed.values()) total += n;
      logger.warn(
        {
          event: 'rejections-summary',
          windowMs: now - windowStart,
          suppressed: total,
          byReason: Object.fromEntries(suppressed),
        },
        `${total} more connections refused (not logged one by one)`,
      );
    }
    suppressed = new Map();
    windowStart = now;
    logged = 0;
  };

  const onLifecycle = guard<LifecycleEvent>((e) => {
    if (e.conn.proxyId !== o.proxyId) return;
    const fields = {
      event: e.kind,
      connectionId: e.conn.id,
      route: e.conn.routeName,
      client: e.conn.remoteIP,
      configGeneration: e.conn.story.configGeneration,
      ...traceFields(e.conn),
      ...e.detail,
    };
    if (e.kind === 'idle-warning')
      logger.warn(fields, 'connection idle past its timeout: closing after the grace unless it wakes up');
    else logger.info(fields, e.kind);
  });
  const onProxy = guard<ProxyEvent>((e) => {
    if (e.detail?.proxyId !== o.proxyId) return;
    if (e.kind === 'reload-failed')
      logger.error(
        { event: 'proxy-reload-failed', ...e.detail },
        'configuration reload refused; the running configuration stays',
      );
    else if (e.kind === 'routes-updated')
      logger.info(
        { event: 'proxy-routes-updated', ...e.detail },
        `configuration generation ${String(e.detail.previousGeneration)} → ${String(e.detail.generation)}`,
      );
    else logger.info({ event: `proxy-${e.kind}`, ...e.detail }, `proxy ${e.kind}`);
  });
  const onClose = guard<CloseEvent>((e) => {
    const c = e.conn;
    if (c.proxyId !== o.proxyId) return;
    if (isRejection(e.reason)) {
      const now = Date.now();
      if (windowStart === 0) windowStart = now;
      if (now - windowStart >= windowMs) flush(now);
      if (o.detailed || logged < burst) {
        logged++;
        logger.warn(
          {
            event: 'connection-refused',
            connectionId: c.id,
            ...correlationFields(c),
            route: c.routeName,
            client: c.remoteIP,
            peer: c.peerIP,
            port: c.listenPort,
            reason: e.reason,
            configGeneration: e.configGeneration,
          },
          'connection refused',
        );
      } else suppressed.set(e.reason, (suppressed.get(e.reason) ?? 0) + 1);
      return;
    }
    const line = {
      event: 'access',
      connectionId: c.id,
      // ---- cross-hop correlation (issue 14) ----
      ...correlationFields(c),
      ...traceFields(c),
      route: c.routeName,
      client: c.remoteIP,
      clientPort: c.remotePort,
      // The socket's peer (a PROXY-protocol load balancer, or the client itself).
      peer: c.peerIP,
      peerPort: c.peerPort,
      port: c.listenPort,
      sni: c.serverName,
      target: e.target,
      mode: c.mode,
      tls: c.isTLS,
      durationMs: e.durationMs,
      idleAtCloseMs: e.idleAtCloseMs,
      bytesIn: e.bytesFromClient,
      bytesOut: e.bytesToClient,
      reason: e.reason,
      initiator: e.initiator,
      firstSide: e.firstSide,
      endKind: e.endKind,
      phase: e.phase,
      treatment: c.keepAliveTreatment,
      error: e.error,
      ...(e.http === undefined ? {} : { requests: e.http.requests }),
      ...(e.websocket === undefined
        ? {}
        : {
            wsCloseCode: e.websocket.closeCode,
            wsCloseFrame: e.websocket.closeFrame,
            wsClosedBy: e.websocket.closedBy,
          }),
      // ---- issue 14 point 5: the connection story (generation, milestones as ms from accept) ----
      configGeneration: e.configGeneration,
      milestonesMs: e.milestonesMs,
    };
    // Worth a warning when a timer or detector cut it: the reason's `log` in core/close-reason-table.ts.
    if (closeReasonInfo(e.reason)?.log === 'warn') logger.warn(line, `connection closed: ${e.reason}`);
    else logger.info(line, 'connection closed');
  });
  // ---- issue 11: internal errors (stack, at most one per site per window) and resources ----
  const faultWindowMs = o.faultWindowMs ?? 10_000;
  const faultSeen = new Map<string, { at: number; suppressed: number }>();
  const onInternalError = guard<InternalErrorEvent>((e) => {
    if (e.proxyId !== o.proxyId) return;
    const now = Date.now();
    const seen = faultSeen.get(e.site);
    if (seen !== undefined && now - seen.at < faultWindowMs) {
      seen.suppressed++;
      return;
    }
    const err = e.error instanceof Error ? e.error : new Error(String(e.error));
    const c = e.conn;
    logger.error(
      {
        event: 'internal-error',
        site: e.site,
        err: { type: err.name, message: err.message, stack: err.stack },
        suppressedSinceLast: seen?.suppressed ?? 0,
        ...(c === null
          ? {}
          : {
              connectionId: c.id,
              route: c.routeName,
              client: c.remoteIP,
              peer: c.peerIP,
              phase: c.phase,
              configGeneration: c.story.configGeneration,
              ...traceFields(c),
            }),
      },
      `internal error at ${e.site}: closed that connection only`,
    );
    faultSeen.set(e.site, { at: now, suppressed: 0 });
  });
  let lastResourceLog = 0;
  let resourceSuppressed = 0;
  const onResource = guard<ResourceEvent>((e) => {
    if (e.proxyId !== o.proxyId) return;
    if (e.kind === 'recovered' || e.kind === 'paused') {
      // One line per listener per pause: these come at most once per backoff step.
      if (e.kind === 'paused')
        logger.warn(
          { event: 'accept-paused', port: e.port, code: e.code },
          `out of descriptors (${e.code ?? ''}): listener on port ${e.port ?? ''} stops accepting, backing off`,
        );
      else logger.info({ event: 'accept-resumed', port: e.port }, `listener on port ${e.port ?? ''} accepts again`);
      return;
    }
    const now = Date.now();
    if (now - lastResourceLog < 1000) {
      resourceSuppressed++;
      return;
    }
    lastResourceLog = now;
    const fields = {
      event: e.kind === 'exhausted' ? 'resource-exhausted' : 'accept-error',
      code: e.code,
      port: e.port,
      where: e.where,
      suppressed: resourceSuppressed,
    };
    resourceSuppressed = 0;
    if (e.kind === 'exhausted')
      logger.error(fields, `out of descriptors or ports (${e.code ?? 'unknown'}) at ${e.where}`);
    else logger.warn(fields, `accept error ${e.code ?? ''}`);
  });
  diagnostics.subscribe(CHANNEL_NAMES.lifecycle, onLifecycle);
  diagnostics.subscribe(CHANNEL_NAMES.proxy, onProxy);
  diagnostics.subscribe(CHANNEL_NAMES.close, onClose);
  diagnostics.subscribe(CHANNEL_NAMES.internalError, onInternalError);
  diagnostics.subscribe(CHANNEL_NAMES.resource, onResource);
  let closed = false;
  return {
    get errors() {
      return errors;
    },
    sweep() {
      // Refusal windows run on wall-clock time (the proxy clock may be a test's manual one).
      const now = Date.now();
      if (windowStart !== 0 && now - windowStart >= windowMs && suppressed.size > 0) flush(now);
    },
    // ---- issue 14 point 5: progress records ----
    progress(r) {
      try {
        logger.info({ ...progressFields(r), ...traceFields(r.conn) }, 'connection progress');
      } catch {
        errors++;
      }
    },
    pattern(fields, summary) {
      try {
        logger.warn({ event: 'disconnect-pattern', ...fields }, summary);
      } catch {
        errors++;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      if (suppressed.size > 0) flush(Date.now());
      diagnostics.unsubscribe(CHANNEL_NAMES.lifecycle, onLifecycle);
      diagnostics.unsubscribe(CHANNEL_NAMES.proxy, onProxy);
      diagnostics.unsubscribe(CHANNEL_NAMES.close, onClose);
      diagnostics.unsubscribe(CHANNEL_NAMES.internalError, onInternalError);
      diagnostics.unsubscribe(CHANNEL_NAMES.resource, onResource);
    },
  };
}
