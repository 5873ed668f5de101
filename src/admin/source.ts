/**
 * What the admin server reads (DESIGN §1 L6). proxy-source.ts implements it
 * over the live proxy; the admin server only serves it. Every answer is plain JSON-able data.
 */
import type { CloseAges, CloseRecord, ConnectionIdentity, RecentCloses } from '../telemetry/close-history.js';

export type { CloseAges, CloseRecord, RecentCloses };

export interface HealthInfo {
  /** The process is up and the proxy started. */
  readonly live: boolean;
  /** Accepting new connections (false while draining or before start). */
  readonly ready: boolean;
  readonly draining: boolean;
  /** Out of descriptors or ports right now (EMFILE, ...): the errno; null when not. */
  readonly exhausted?: string | null;
}

export interface ConnectionInfo extends ConnectionIdentity {
  readonly phase: string;
  readonly tls: boolean;
  readonly keepAliveTreatment: string;
  readonly ageMs: number;
  readonly idleMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

export interface ConnectionQuery {
  readonly route?: string;
  /** Only connections at least this old / idle (ms). */
  readonly minAgeMs?: number;
  readonly minIdleMs?: number;
  /** At most this many items (the server caps it). */
  readonly limit: number;
}

export interface RouteInfo {
  readonly name: string;
  readonly ports: readonly number[];
  readonly domains: readonly string[];
  readonly mode: string;
  readonly protocol: string;
  readonly target: string;
  readonly active: number;
}

/** A disconnect pattern as the detector reports it (see telemetry/patterns.ts). */
export type PatternInfo = Readonly<Record<string, unknown>>;

/** Open connections per route: how old and how idle they are, on the close-age bins. */
export interface OpenAges {
  readonly edgesMs: readonly number[];
  readonly routes: ReadonlyArray<{
    readonly route: string;
    readonly total: number;
    readonly age: readonly number[];
    readonly idle: readonly number[];
  }>;
}

/** One connection, open or recently closed: its record, the moments of its life and how it ended. */
export interface ConnectionDetail {
  readonly state: 'open' | 'closed';
  /** The live record (open connections). */
  readonly connection: ConnectionInfo | null;
  readonly milestones: ReadonlyArray<{ readonly name: string; readonly at: number }>;
  /** How it ended (closed connections still in the recent-closes ring). */
  readonly close: CloseRecord | null;
}

export interface ConnectionList {
  readonly total: number;
  readonly items: readonly ConnectionInfo[];
}

/** What closing one connection did: its summary as it was, or why nothing was closed. */
export type CloseConnectionResult =
  | { readonly ok: true; readonly connection: ConnectionInfo }
  | { readonly ok: false; readonly status: 400 | 404; readonly error: string };

/** A cluster primary answers from its workers (over IPC), so some answers may be promises. */
export interface AdminSource {
  /** The Prometheus exposition: plain text, or OpenMetrics (with exemplars) when asked. */
  metrics(openMetrics: boolean): Promise<{ contentType: string; body: string }>;
  health(): HealthInfo;
  /** Totals: active, accepted, by route, terminations by reason and initiator, pools. */
  stats(): Readonly<Record<string, unknown>> | Promise<Readonly<Record<string, unknown>>>;
  /** Filtered by the query, oldest first, at most `limit` items (`total`: all that matched). */
  connections(q: ConnectionQuery): ConnectionList | Promise<ConnectionList>;
  routes(): readonly RouteInfo[] | Promise<readonly RouteInfo[]>;
  patterns(): readonly PatternInfo[];
  recentCloses(): RecentCloses | Promise<RecentCloses>;
  /** Age at close per route over the recent window (one route when given). */
  closeAges(route?: string): CloseAges | Promise<CloseAges>;
  /** Age and idle distribution of the open connections, per route (all of them, one pass). */
  openAges(): OpenAges | Promise<OpenAges>;
  /** The last closes, newest first. */
  closeRecords(filter: { route?: string; limit: number }): readonly CloseRecord[] | Promise<readonly CloseRecord[]>;
  /** One connection by id: open, or closed and still remembered; null when unknown. */
  connection(id: number): ConnectionDetail | null | Promise<ConnectionDetail | null>;
  /** Close one open connection (numeric id or unique id) as `admin_closed` (POST /api/connections/:id/close). */
  closeConnection(id: number | string): CloseConnectionResult | Promise<CloseConnectionResult>;
}
