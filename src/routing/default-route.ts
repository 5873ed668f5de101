/** The route of `defaults.target`: where a connection no configured route matches goes. */
import type { ResolvedOptions } from '../config/schema.js';
import { CompiledRoute, type ModeResolver } from './route-table.js';

export function defaultRouteOf<M>(o: ResolvedOptions, resolveMode: ModeResolver<M>): CompiledRoute<M> | null {
  const target = o.defaults.target;
  if (target === undefined) return null;
  return new CompiledRoute(
    Object.freeze({
      name: 'default',
      priority: 0,
      enabled: true,
      match: { ports: [] },
      action: { type: 'forward', target },
    }) as unknown as ResolvedOptions['routes'][number],
    -1,
    resolveMode,
  );
}
