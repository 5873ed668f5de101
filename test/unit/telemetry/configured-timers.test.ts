/** Sightline's own timers per route, as the detector names them, read from validated options. */
import { describe, expect, it } from 'vitest';
import { validateOptions } from '../../../src/config/validate.js';
import { configuredTimers } from '../../../src/telemetry/configured-timers.js';

const settings = (o: unknown): Record<string, string[]> =>
  Object.fromEntries(
    [...configuredTimers(validateOptions(o))].map(([route, ts]) => [
      route,
      ts.map((t) => `${t.setting}=${t.ms}/${t.family}/${t.reason ?? '-'}`),
    ]),
  );

describe('configured timers per route', () => {
  it('defaults (keep-alive, extended): the multiplied idle timeout and the 7-day cap; TLS graces on TLS routes; HTTP routes add the heartbeat and HTTP timers', () => {
    const t = settings({
      routes: [
        { name: 'tcp', match: { ports: 7001 }, action: { type: 'forward', target: { host: '127.0.0.1', port: 1 } } },
        {
          match: { ports: 7002 },
          action: {
            type: 'forward',
            target: { host: '127.0.0.1', port: 1 },
            protocol: 'http',
            websocket: { pingInterval: 1000, pingTimeout: 500 },
          },
        },
        {
          name: 'sni',
          match: { ports: 7003, domains: 'a.test' },
          action: { type: 'forward', target: { host: '127.0.0.1', port: 1 }, tls: { mode: 'passthrough' } },
        },
      ],
    });
    expect(t.tcp).toEqual([
      'inactivityTimeout: 14400000 × keepAliveInactivityMultiplier: 6=86400000/idle/inactivity',
      'extendedKeepAliveLifetime: 604800000=604800000/age/lifetime',
      'lifecycle.halfZombieGrace: 30000=30000/idle/half_zombie',
      'lifecycle.stuckThreshold: 60000=60000/idle/stuck',
      'lifecycle.writeStallTimeout: 60000=60000/idle/write_stall',
    ]);
    // An unnamed route is named as CompiledRoute names it.
    expect(t['route-1']).toContain('websocket.pingInterval: 1000 + pingTimeout: 500=1500/idle/heartbeat_timeout');
    expect(t['route-1']).toContain('http.keepAliveTimeout: 75000=75000/idle/http_keep_alive_timeout');
    expect(t['route-1']).toContain('http.requestBodyTimeout: 60000=60000/idle/http_body_timeout');
    expect(t.sni).toContain('lifecycle.halfZombieGraceTls: 300000=300000/idle/half_zombie');
    expect(t.sni!.some((x) => x.startsWith('websocket.'))).toBe(false);
  });

  it('standard treatment without keep-alive: the plain idle timeout, the lifetime cap and the socket timeout', () => {
    const t = settings({
      keepAlive: false,
      inactivityTimeout: 30_000,
      maxConnectionLifetime: 3_000,
      socketTimeout: 20_000,
      routes: [
        { name: 'r', match: { ports: 7004 }, action: { type: 'forward', target: { host: '127.0.0.1', port: 1 } } },
      ],
    });
    expect(t.r!.slice(0, 3)).toEqual([
      'inactivityTimeout: 30000=30000/idle/inactivity',
      'socketTimeout: 20000=20000/idle/socket_timeout',
      'maxConnectionLifetime: 3000=3000/age/lifetime',
    ]);
  });

  it("'immortal' keep-alive connections have no idle or age timer", () => {
    const t = settings({
      keepAliveTreatment: 'immortal',
      routes: [
        { name: 'r', match: { ports: 7005 }, action: { type: 'forward', target: { host: '127.0.0.1', port: 1 } } },
      ],
    });
    expect(t.r!.some((x) => /inactivity|lifetime/.test(x))).toBe(false);
  });

  it('the write-stall check is named when on and absent when off (0)', () => {
    const on = settings({
      lifecycle: { writeStallTimeout: 5_000 },
      routes: [
        { name: 'r', match: { ports: 7006 }, action: { type: 'forward', target: { host: '127.0.0.1', port: 1 } } },
      ],
    });
    expect(on.r).toContain('lifecycle.writeStallTimeout: 5000=5000/idle/write_stall');
    const off = settings({
      lifecycle: { writeStallTimeout: 0 },
      routes: [
        { name: 'r', match: { ports: 7006 }, action: { type: 'forward', target: { host: '127.0.0.1', port: 1 } } },
      ],
    });
    expect(off.r!.some((x) => x.includes('writeStall'))).toBe(false);
  });
});
