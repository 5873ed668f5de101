/**
 * What a reload may change (server.ts `applyConfig`): everything read per connection takes the
 * new file's value; what is bound at start keeps its running value and is named in
 * `restartNeeded` when the file changed it.
 */
import type { ResolvedOptions } from './schema.js';

export function mergeForReload(
  cur: ResolvedOptions,
  next: ResolvedOptions,
): { merged: ResolvedOptions; restartNeeded: string[] } {
  const kept = {
    listenHost: cur.listenHost,
    admin: cur.admin,
    telemetry: cur.telemetry,
    // Read by the admission checks, built at construction.
    maxConnectionsPerIP: cur.maxConnectionsPerIP,
    connectionRateLimitPerMinute: cur.connectionRateLimitPerMinute,
  };
  const restartNeeded: string[] = (Object.keys(kept) as Array<keyof typeof kept>).filter(
    (k) => JSON.stringify(next[k]) !== JSON.stringify(cur[k]),
  );
  if (JSON.stringify(next.defaults.security) !== JSON.stringify(cur.defaults.security))
    restartNeeded.push('defaults.security');
  const merged: ResolvedOptions = Object.freeze({
    ...next,
    ...kept,
    defaults: Object.freeze({ ...next.defaults, security: cur.defaults.security }),
  });
  return { merged, restartNeeded };
}
