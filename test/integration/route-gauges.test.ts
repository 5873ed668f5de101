/**
 * Known series are never absent (issue 11 §9): every configured route has its
 * `sightline_connections_active`, oldest-age and older-than series at 0 before any connection,
 * a route added by updateRoutes gets them too, and a removed route's series go away.
 */
import { describe, expect, it } from 'vitest';
import { SightlineProxy } from '../../src/server.js';
import { echoServer, freePort, HOST, connect, readBytes, waitFor } from '../helpers/net.js';

const route = (name: string, port: number, target: number) => ({
  name,
  match: { ports: port },
  action: { type: 'forward' as const, target: { host: HOST, port: target } },
});

function series(body: string, metric: string, route: string): string[] {
  return body.split('\n').filter((l) => l.startsWith(`${metric}{`) && l.includes(`route="${route}"`));
}

describe('per-route gauges', () => {
  it('exported at 0 for every configured route, live values when connections are open, following route changes', async () => {
    const echo = await echoServer();
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    const proxy = new SightlineProxy(
      { listenHost: HOST, routes: [route('idle-a', p1, echo.port), route('idle-b', p2, echo.port)] },
      { logger: null },
    );
    await proxy.start();
    try {
      const scrape = async (): Promise<string> => (await proxy.telemetry!.scrape(false)).body;
      let body = await scrape();
      for (const r of ['idle-a', 'idle-b']) {
        expect(series(body, 'sightline_connections_active', r), r).toEqual([
          `sightline_connections_active{route="${r}"} 0`,
        ]);
        expect(series(body, 'sightline_connection_oldest_age_seconds', r)).toEqual([
          `sightline_connection_oldest_age_seconds{route="${r}"} 0`,
        ]);
        const older = series(body, 'sightline_connections_older_than', r);
        expect(older.length).toBeGreaterThanOrEqual(5);
        expect(older.every((l) => l.endsWith(' 0'))).toBe(true);
      }
      expect(body).toMatch(/^sightline_config_reload_failures_total 0$/m);

      const s = await connect(p1);
      s.write('x');
      await readBytes(s, 1);
      body = await scrape();
      expect(series(body, 'sightline_connections_active', 'idle-a')).toEqual([
        'sightline_connections_active{route="idle-a"} 1',
      ]);
      expect(series(body, 'sightline_connections_active', 'idle-b')).toEqual([
        'sightline_connections_active{route="idle-b"} 0',
      ]);
      s.destroy();
      await waitFor(() => proxy.getStats().getActiveConnections() === 0);

      await proxy.updateRoutes([route('idle-a', p1, echo.port), route('added', p3, echo.port)]);
      body = await scrape();
      expect(series(body, 'sightline_connections_active', 'added')).toEqual([
        'sightline_connections_active{route="added"} 0',
      ]);
      expect(series(body, 'sightline_connections_active', 'idle-b')).toEqual([]);
    } finally {
      await proxy.stop();
      await echo.close();
    }
  });
});
