/**
 * Every close reason's attributes in one table. The access log's level, the metrics' counters, the
 * detector, `diagnose`, the WebSocket mode, docs/close-reasons.md and the monitoring generator
 * (through monitoring/close-reasons.json) all take their sets of reasons from here, and
 * test/unit/core/close-reason-table.test.ts fails when one of them keeps a list of its own.
 *
 * A new reason: its constant in close-reasons.ts, its row in close-reason-rows-*.ts (the compiler
 * asks for it), the code that detects it, then `npm run build && node scripts/gen-close-reasons.mjs`
 * (the docs page and the monitoring generator's copy).
 */
import type { CloseReason, Initiator } from './close-reasons.js';
import { CONNECTION_ROWS } from './close-reason-rows-connection.js';
import { HTTP_ROWS } from './close-reason-rows-http.js';

/** The dedicated counter a reason also feeds, beside `sightline_connections_closed_total{reason}`. */
export type MetricFamily =
  'limit' | 'inactivity' | 'zombie' | 'heartbeat' | 'connect' | 'client-hello' | 'tls-handshake';

/** The counter of each family (telemetry/metric-catalogue.ts has them; a test checks). */
export const METRIC_OF_FAMILY: Readonly<Record<MetricFamily, string>> = Object.freeze({
  limit: 'sightline_limit_rejections_total',
  inactivity: 'sightline_inactivity_kills_total',
  zombie: 'sightline_zombie_detections_total',
  heartbeat: 'sightline_heartbeat_timeouts_total',
  connect: 'sightline_backend_connect_failures_total',
  'client-hello': 'sightline_client_hello_failures_total',
  'tls-handshake': 'sightline_tls_handshake_failures_total',
});

/**
 * Why it ended, where a consumer needs to know (null: a failure or refusal of its own kind).
 * - `peer-end`: a plain end of a peer's socket (FIN, RST, a socket error) with no cause of its own;
 *   a mode that knows more renames it (WebSocket: `ws_closed` / `ws_abnormal_close`).
 * - `cap`: a configured idle or age cap doing its job.
 * - `detector`: one of Sightline's timers found a broken connection (half-zombie, stuck, heartbeat).
 * - `drain`: the proxy or its operator ended it on purpose (`stop()`, an admin close): neither a
 *   traffic pattern nor an abnormal-reason finding.
 * `cap` and `detector` are Sightline's own timers: while those end most closes, the monitoring rules
 * do not blame a fixed-age pattern on the path (`isOwnTimer`).
 */
export type CloseCause = 'peer-end' | 'cap' | 'detector' | 'drain';

/** Key of the `diagnose` / detector texts about a reason (the setting that decides it, or what to check). */
export type AdviceKey =
  | 'idle-timeout'
  | 'age-cap'
  | 'socket-timeout'
  | 'half-zombie-grace'
  | 'stuck-threshold'
  | 'websocket-heartbeat'
  | 'http-keep-alive-timeout'
  | 'http-response-timeout'
  | 'http-headers-timeout'
  | 'http-body-timeout'
  | 'initial-data-timeout'
  | 'tls-handshake-timeout'
  | 'backend-connect-timeout'
  | 'backend-unreachable'
  | 'backend-dns'
  | 'backend-reset'
  | 'backend-socket-error'
  | 'backend-keepalive'
  | 'client-reset'
  | 'client-socket-error'
  | 'client-keepalive'
  | 'write-stall'
  | 'websocket-no-close-frame'
  | 'websocket-upgrade-rejected'
  | 'shutdown'
  | 'admin-close';

export interface CloseReasonInfo {
  readonly reason: CloseReason;
  /** Part of ordinary traffic. Everything else is abnormal: always traced, counted apart. */
  readonly normal: boolean;
  /** Refused by an IP list or a connection limit: the connection never carried traffic. */
  readonly rejection: boolean;
  readonly cause: CloseCause | null;
  readonly metric: MetricFamily | null;
  /** Decided by the lifecycle sweep (net/sweep.ts) on its tick, so up to one sweep period late. */
  readonly sweep: boolean;
  /** Level of the access-log line of a connection that ends with it. */
  readonly log: 'info' | 'warn';
  /** Who is taken to have caused it when the code knows nothing more specific (the docs' column). */
  readonly initiator: Initiator;
  readonly advice: AdviceKey | null;
  /** What happened, one line of markdown (docs/close-reasons.md). */
  readonly doc: string;
}

/** A row as written: every attribute but the initiator and the doc line has a default. */
export type CloseReasonRow = Partial<Omit<CloseReasonInfo, 'reason' | 'initiator' | 'doc'>> &
  Pick<CloseReasonInfo, 'initiator' | 'doc'>;

const ROWS: Readonly<Record<CloseReason, CloseReasonRow>> = { ...CONNECTION_ROWS, ...HTTP_ROWS };

function info(reason: CloseReason, row: CloseReasonRow): CloseReasonInfo {
  return Object.freeze({
    reason,
    normal: false,
    rejection: false,
    cause: null,
    metric: null,
    sweep: false,
    log: 'info',
    advice: null,
    ...row,
  });
}

/** The table; its order (connection rows, then HTTP and WebSocket) is the docs page's. */
export const CLOSE_REASON_TABLE: Readonly<Record<CloseReason, CloseReasonInfo>> = Object.freeze(
  Object.fromEntries(Object.entries(ROWS).map(([r, row]) => [r, info(r as CloseReason, row)])) as Record<
    CloseReason,
    CloseReasonInfo
  >,
);

const BY_NAME: ReadonlyMap<string, CloseReasonInfo> = new Map(
  Object.values(CLOSE_REASON_TABLE).map((i) => [i.reason, i]),
);

/** The row of a reason given as a string (a label, a log field); undefined for a string that is none. */
export function closeReasonInfo(reason: string): CloseReasonInfo | undefined {
  return BY_NAME.get(reason);
}

/** The reasons whose row satisfies `pred`: how every consumer builds a set. */
export function reasonsWhere(pred: (i: CloseReasonInfo) => boolean): readonly CloseReason[] {
  return Object.freeze([...BY_NAME.values()].filter(pred).map((i) => i.reason));
}

/**
 * Sightline's own timers ended it, as it meant to, and it is recorded as the proxy's close (the
 * monitoring rules' "proxy timeout" reasons, matched with initiator="proxy"). A write stall is a
 * detector too, but its initiator is the peer that stopped reading.
 */
export const isOwnTimer = (i: CloseReasonInfo): boolean =>
  (i.cause === 'cap' || i.cause === 'detector') && i.initiator === 'proxy';

/**
 * Counted by the abnormal-reason finding: abnormal, not a refusal (no traffic to speak of) and not a
 * close the configuration or an operator asked for (drains, idle and age caps: when those end most
 * connections, the age-clustered detector names the setting).
 */
export const countsAsAbnormalClose = (i: CloseReasonInfo): boolean =>
  !i.normal && !i.rejection && i.cause !== 'cap' && i.cause !== 'drain';

/** Feeds the disconnect-pattern detector: refusals never became connections; drains are the proxy leaving on purpose. */
export const feedsPatterns = (i: CloseReasonInfo): boolean => !i.rejection && i.cause !== 'drain';
