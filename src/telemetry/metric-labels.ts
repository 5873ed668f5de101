/**
 * How WebSocket close codes and errno values become label values: bounded sets, so a client can
 * never grow the number of series (DESIGN §3). Close reasons are a closed set already; which
 * counter each feeds is its `metric` in core/close-reason-table.ts.
 */
const KNOWN_WS_CODES: ReadonlySet<number> = new Set([1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011]);

/** Accept / connect error codes as a bounded label value. */
const KNOWN_ERRNO: ReadonlySet<string> = new Set([
  'EMFILE',
  'ENFILE',
  'ENOBUFS',
  'ENOMEM',
  'EADDRNOTAVAIL',
  'ECONNABORTED',
  'EPROTO',
  'EPERM',
]);
export function errnoLabel(code: string | null): string {
  return code !== null && KNOWN_ERRNO.has(code) ? code : 'other';
}

/** A close code as a bounded label value. */
export function wsCodeClass(code: number): string {
  if (KNOWN_WS_CODES.has(code)) return String(code);
  if (code >= 3000 && code < 4000) return '3xxx';
  if (code >= 4000 && code < 5000) return '4xxx';
  return 'other';
}
