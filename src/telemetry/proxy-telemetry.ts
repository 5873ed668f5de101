/**
 * Metrics, logs, patterns and tracing for one proxy: subscribers of the core's channels (L5),
 * loaded only when started, reading the proxy's live state through a narrow source.
 */
import type { TracerProvider } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { ProxyContext } from '../net/context.js';
import type { PoolStats } from '../proxy/upstream-lease.js';
import type { Telemetry } from './telemetry.js';
import { VERSION } from '../core/version.js';

export interface ProxyTelemetryDeps {
  readonly logger: Logger | null | undefined;
  readonly tracerProvider: TracerProvider | undefined;
  readonly generation: () => number;
  readonly pools: () => PoolStats;
}

export async function startProxyTelemetry(ctx: ProxyContext, d: ProxyTelemetryDeps): Promise<Telemetry> {
  const { startTelemetry } = await import('./telemetry.js');
  return startTelemetry({
    proxyId: ctx.proxyId,
    options: ctx.options,
    clock: ctx.clock,
    version: VERSION,
    logger: d.logger,
    tracerProvider: d.tracerProvider,
    liveCount: () => ctx.registry.size,
    source: {
      live: () => ctx.registry.live.values(),
      now: () => ctx.clock.now(),
      routes: () => ctx.table.routes.map((r) => r.name),
      configGeneration: d.generation,
      pools: () => {
        const p = d.pools();
        return { open: p.open, idle: p.idle };
      },
    },
  });
}
