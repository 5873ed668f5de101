/**
 * `/api/connections` query parsing: `route`, `minAge` and `minIdle` (ms) and `limit` (default
 * 100, capped at 1000 so one request can't serialise a million connections). Bad numbers are a
 * 400 with a message naming the parameter, never a silent default.
 */
import type { ConnectionQuery } from './source.js';

export const DEFAULT_CONNECTION_LIMIT = 100;
export const MAX_CONNECTION_LIMIT = 1000;

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** Non-negative whole milliseconds (at most 15 digits, so the number stays exact). */
const WHOLE = /^\d{1,15}$/;

function whole(params: URLSearchParams, name: string): Parsed<number | undefined> {
  const raw = params.get(name);
  if (raw === null || raw === '') return { ok: true, value: undefined };
  if (!WHOLE.test(raw)) return { ok: false, error: `${name} must be a non-negative whole number of milliseconds, got ${JSON.stringify(raw.slice(0, 40))}` };
  return { ok: true, value: Number(raw) };
}

export function parseConnectionQuery(params: URLSearchParams): Parsed<ConnectionQuery> {
  const minAge = whole(params, 'minAge');
  if (!minAge.ok) return minAge;
  const minIdle = whole(params, 'minIdle');
  if (!minIdle.ok) return minIdle;
  let limit = DEFAULT_CONNECTION_LIMIT;
  const rawLimit = params.get('limit');
  if (rawLimit !== null && rawLimit !== '') {
    if (!WHOLE.test(rawLimit) || Number(rawLimit) < 1) {
      return { ok: false, error: `limit must be a whole number from 1 to ${MAX_CONNECTION_LIMIT}, got ${JSON.stringify(rawLimit.slice(0, 40))}` };
    }
    limit = Math.min(Number(rawLimit), MAX_CONNECTION_LIMIT);
  }
  const route = params.get('route');
  return {
    ok: true,
    value: {
      limit,
      ...(route !== null && route !== '' ? { route } : {}),
      ...(minAge.value !== undefined ? { minAgeMs: minAge.value } : {}),
      ...(minIdle.value !== undefined ? { minIdleMs: minIdle.value } : {}),
    },
  };
}
