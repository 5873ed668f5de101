/** `getStats()`: the seed-compatible counters of one proxy, read live from its registry. */
import type { ConnectionRegistry, TerminationStats } from './registry.js';

export interface ProxyStats {
  /** 1 for the configuration the proxy was built with, +1 for each successful applyConfig (reload). */
  getConfigGeneration(): number;
  getActiveConnections(): number;
  getConnectionsByRoute(): Map<string, number>;
  getTerminationStats(): TerminationStats;
  getAcceptedConnections(): number;
}

export function proxyStats(reg: ConnectionRegistry, generation: () => number): ProxyStats {
  return {
    getConfigGeneration: generation,
    getActiveConnections: () => reg.size,
    getConnectionsByRoute: () => reg.byRoute(),
    getTerminationStats: () => reg.terminationStats(),
    getAcceptedConnections: () => reg.accepted,
  };
}
