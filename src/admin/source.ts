/**
 * What the admin server reads (DESIGN §1 L6). The composition root (server.ts) implements it
 * over the live proxy; the admin server only serves it. Every answer is plain JSON-able data.
 */

export interface HealthInfo {
  /** The process is up and the proxy started. */
  readonly live: boolean;
  /** Accepting new connections (false while draining or before start). */
  readonly ready: boolean;
  readonly draining: boolean;
  /** Out of descriptors or ports right now (EMFILE, ...): the errno; null when not. */
  readonly exhausted?: string | null;
}

export interface ConnectionInfo {
  readonly id: number;
  readonly route: string | null;
  readonly client: string;
  readonly clientPort: number;
  readonly listenPort: number;
  readonly sni: string | null;
  readonly target: string | null;
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

/** Close reasons per minute over the recent past (oldest first), for the status page. */
export interface RecentCloses {
  readonly bucketMs: number;
  /** One entry per bucket: its start (epoch ms) and count per reason. */
  readonly buckets: ReadonlyArray<{ readonly start: number; readonly byReason: Readonly<Record<string, number>> }>;
}

/** A disconnect pattern as the detector reports it (see telemetry/patterns.ts). */
export type PatternInfo = Readonly<Record<string, unknown>>;

export interface AdminSource {
  /** The Prometheus exposition: plain text, or OpenMetrics (with exemplars) when asked. */
  metrics(openMetrics: boolean): Promise<{ contentType: string; body: string }>;
  health(): HealthInfo;
  /** Totals: active, accepted, by route, terminations by reason and initiator, pools. */
  stats(): Readonly<Record<string, unknown>>;
  /** Filtered by the query, oldest first, at most `limit` items (`total`: all that matched). */
  connections(q: ConnectionQuery): { readonly total: number; readonly items: readonly ConnectionInfo[] };
  routes(): readonly RouteInfo[];
  patterns(): readonly PatternInfo[];
  recentCloses(): RecentCloses;
}
