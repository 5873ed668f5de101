/**
 * What the cluster primary and its workers say to each other over the node:cluster IPC channel.
 * Plain JSON-able objects, one `t` tag each; anything else arriving on the channel is ignored.
 */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { CloseSample } from '../../telemetry/pattern-types.js';

/** What a worker is asked for; each answer is what its own admin API would serve. */
export type Ask =
  | 'metrics'
  | 'stats'
  | 'connections'
  | 'routes'
  | 'closes'
  | 'close-ages'
  | 'open-ages'
  | 'close-records'
  | 'connection'
  | 'close-connection';

export type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>;

export type ToWorker =
  /** `query`: the connection query, the route (close-ages), the filter (close-records) or the id. */
  | { readonly t: 'ask'; readonly id: number; readonly what: Ask; readonly query?: unknown }
  | { readonly t: 'reload'; readonly id: number; readonly file: string }
  | { readonly t: 'drain' };

export type ReloadResult =
  { readonly ok: true; readonly generation: number } | { readonly ok: false; readonly error: string };

export type FromWorker =
  /** Listening on every route port. */
  | { readonly t: 'ready'; readonly ports: readonly number[] }
  /** Could not start (bad config, port taken): the primary gives up rather than restart-loop. */
  | { readonly t: 'fatal'; readonly error: string }
  /**
   * Closes for the primary's pattern detector since the last batch, and the open connections
   * per route now (what the primary records as lost if the worker dies before the next batch).
   */
  | { readonly t: 'closes'; readonly samples: readonly CloseSample[]; readonly open: Readonly<Record<string, number>> }
  | { readonly t: 'answer'; readonly id: number; readonly body: unknown }
  | { readonly t: 'reloaded'; readonly id: number; readonly result: ReloadResult };

export const isMessage = (m: unknown): m is { t: string } =>
  typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
