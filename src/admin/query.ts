/**
 * `/api/connections` query parsing: `route`, `minAge` and `minIdle` (ms) and `limit` (default
 * 100, capped at 1000 so one request can't serialise a million connections). Bad numbers are a
 * 400 with a message naming the parameter, never a silent default.
 */
import { RECORDS } from '../telemetry/close-history.js';
import type { ConnectionQuery } from './source.js';

export const DEFAULT_CONNECTION_LIMIT = 100;
export const MAX_CONNECTION_LIMIT = 1000;

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** Non-negative whole milliseconds (at most 15 digits, so the number stays exact). */
const WHOLE = /^\d{1,15}$/;

function whole(params: URLSearchParams, name: string): Parsed<number | undefined> {
  const raw = params.get(name);
  if (raw === null || raw === '') return { ok: true, value: undefined };
  if (!WHOLE.test(raw))
    return {
      ok: false,
      error: `${name} must be a non-negative whole number of milliseconds, got ${JSON.stringify(raw.slice(0, 40))}`,
    };
  return { ok: true, value: Number(raw) };
}

/** `limit`: a whole number from 1, capped at `max`; `dflt` when absent. */
function limitOf(params: URLSearchParams, dflt: number, max: number): Parsed<number> {
  const raw = params.get('limit');
  if (raw === null || raw === '') return { ok: true, value: dflt };
  if (!WHOLE.test(raw) || Number(raw) < 1)
    return {
      ok: false,
      error: `limit must be a whole number from 1 to ${max}, got ${JSON.stringify(raw.slice(0, 40))}`,
    };
  return { ok: true, value: Math.min(Number(raw), max) };
}

export function parseConnectionQuery(params: URLSearchParams): Parsed<ConnectionQuery> {
  const minAge = whole(params, 'minAge');
  if (!minAge.ok) return minAge;
  const minIdle = whole(params, 'minIdle');
  if (!minIdle.ok) return minIdle;
  const limit = limitOf(params, DEFAULT_CONNECTION_LIMIT, MAX_CONNECTION_LIMIT);
  if (!limit.ok) return limit;
  const route = params.get('route');
  return {
    ok: true,
    value: {
      limit: limit.value,
      ...(route !== null && route !== '' ? { route } : {}),
      ...(minAge.value !== undefined ? { minAgeMs: minAge.value } : {}),
      ...(minIdle.value !== undefined ? { minIdleMs: minIdle.value } : {}),
    },
  };
}

export const DEFAULT_CLOSE_RECORDS = 50;

/** `/api/recent-closes`: `route` and `limit` (default 50, capped at what the ring holds). */
export function parseRecentClosesQuery(params: URLSearchParams): Parsed<{ route?: string; limit: number }> {
  const limit = limitOf(params, DEFAULT_CLOSE_RECORDS, RECORDS);
  if (!limit.ok) return limit;
  const route = params.get('route');
  return { ok: true, value: route !== null && route !== '' ? { route, limit: limit.value } : { limit: limit.value } };
}

/** `/api/connection?id=N`: a connection id (whole number), required. */
export function parseConnectionId(params: URLSearchParams): Parsed<number> {
  const raw = params.get('id');
  if (raw === null || !WHOLE.test(raw))
    return {
      ok: false,
      error: `id must be a connection id (a whole number), got ${JSON.stringify((raw ?? '').slice(0, 40))}`,
    };
  return { ok: true, value: Number(raw) };
}
