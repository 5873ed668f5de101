import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { SightlineProxy } from '../../../src/server.js';
import { METRICS } from '../../../src/telemetry/metric-catalogue.js';

const doc = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');

describe('metric catalogue', () => {
  it('docs/metrics.md is what scripts/gen-metrics-doc.mjs renders from the catalogue', async () => {
    // @ts-expect-error plain ESM script without type declarations
    const { renderMetricsDoc } = (await import('../../../scripts/gen-metrics-doc.mjs')) as {
      renderMetricsDoc: (m: typeof METRICS) => string;
    };
    expect(doc).toBe(renderMetricsDoc(METRICS));
  });

  it('docs/metrics.md lists exactly the catalogue', () => {
    const documented = [...doc.matchAll(/^\| `(sightline_[a-z_]+)` \| (counter|gauge|histogram) \|/gm)].map(
      (m) => `${m[1]} ${m[2]}`,
    );
    expect(documented.sort()).toEqual(METRICS.map((m) => `${m.name} ${m.type}`).sort());
  });

  it('every catalogue metric is in a scrape, with its type, and nothing sightline_* is unlisted', async () => {
    const p = new SightlineProxy(
      {
        routes: [
          { name: 'r', match: { ports: 1 }, action: { type: 'forward', target: { host: '127.0.0.1', port: 2 } } },
        ],
      },
      { logger: null },
    );
    // Telemetry starts with the proxy; no listener is needed to scrape (start binds, so build it by hand).
    const { startTelemetry } = await import('../../../src/telemetry/telemetry.js');
    const t = await startTelemetry({
      proxyId: p.id,
      options: p.options,
      clock: { now: () => Date.now() },
      version: 'test',
      logger: null,
      source: { live: () => [], now: () => Date.now(), pools: () => ({ open: 1, idle: 1 }) },
    });
    const text = (await t.scrape(false)).body;
    await t.close();
    const typed = new Map([...text.matchAll(/^# TYPE (sightline_[a-z_]+) (\w+)$/gm)].map((m) => [m[1]!, m[2]!]));
    expect([...typed.keys()].sort()).toEqual(METRICS.map((m) => m.name).sort());
    for (const m of METRICS) expect(typed.get(m.name), m.name).toBe(m.type);
  });
});
