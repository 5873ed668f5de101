/**
 * `diagnose` analysis and text on hand-made facts (what the admin API or Prometheus would give):
 * the abnormal-reason section (exit 1) from either source, culprits filtered by who closed,
 * Sightline's own setting, the undecided wall-clock case, and "no known default at this period".
 */
import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/cli/diagnose/analyse.js';
import type { Facts, RouteFacts } from '../../../src/cli/diagnose/facts.js';
import { renderText } from '../../../src/cli/diagnose/render.js';

const EMPTY = new Map();

function route(
  name: string,
  closes: Array<[string, string, number]>,
  patterns: RouteFacts['patterns'] = [],
): RouteFacts {
  return {
    route: name,
    patterns,
    closes: closes.map(([reason, initiator, count]) => ({ reason, initiator, count })),
    duration: EMPTY,
    idle: EMPTY,
  };
}

const prom = (...routes: RouteFacts[]): Facts => ({
  source: { kind: 'prometheus', url: 'http://prom/' },
  window: '1h',
  routes,
});
const admin = (...routes: RouteFacts[]): Facts => ({ source: { kind: 'admin', url: 'http://admin/' }, routes });

describe('diagnose: abnormal closes', () => {
  it('Prometheus: one bad route with resets among healthy ones is a finding (exit 1); the healthy ones are not', () => {
    const rep = analyse(
      prom(
        route('bad', [
          ['backend_reset', 'backend', 40],
          ['client_closed', 'client', 20],
        ]),
        route('good', [
          ['backend_reset', 'backend', 3],
          ['client_closed', 'client', 200],
        ]),
        route('drained', [['shutdown', 'proxy', 300]]),
      ),
    );
    expect(rep.exitCode).toBe(1);
    expect(rep.routes.map((r) => `${r.route}:${r.status}`)).toEqual(['bad:pattern', 'drained:healthy', 'good:healthy']);
    const f = rep.routes[0]!.findings[0]!;
    expect(f).toMatchObject({ kind: 'abnormal-reason', count: 40, initiator: 'backend', local: false });
    const text = renderText(rep);
    expect(text).toContain('route bad: ABNORMAL CLOSES (abnormal-reason)');
    expect(text).toContain(
      'connections on route bad mostly end abnormally: 40 of 60 closes (67 %) over the last 1h, mostly backend_reset, by the backend side',
    );
    expect(text).toContain('backend_reset: the backend aborted connections with RST');
    expect(text).toMatch(/result: 1 abnormal-close finding on 1 route \(exit 1\)\n$/);
  });

  it("admin: the detector's heartbeat finding, with the setting that decided", () => {
    const rep = analyse(
      admin(
        route(
          'ws',
          [
            ['heartbeat_timeout', 'proxy', 14],
            ['ws_closed', 'client', 4],
          ],
          [
            {
              kind: 'abnormal-reason',
              periodMs: 0,
              count: 14,
              initiator: 'proxy',
              local: true,
              reasons: { heartbeat_timeout: 14 },
              setting: 'websocket.pingInterval: 1000 + pingTimeout: 500',
              culprits: [
                "Sightline's own `websocket.pingInterval: 1000 + pingTimeout: 500` on route ws decided (reason heartbeat_timeout)",
              ],
            },
          ],
        ),
      ),
    );
    expect(rep.exitCode).toBe(1);
    const text = renderText(rep);
    expect(text).toContain(
      "connections on route ws mostly end abnormally: 14 closes in the detector's last 10 min, mostly heartbeat_timeout, by Sightline itself",
    );
    expect(text).toContain('the setting that decided: `websocket.pingInterval: 1000 + pingTimeout: 500` on route ws');
    expect(text).toContain("clients stopped answering Sightline's WebSocket pings");
  });

  it('Prometheus: a periodic pattern on the route is the one finding (its reasons are in its evidence)', () => {
    const rep = analyse(
      prom(route('pt', [['half_zombie', 'proxy', 40]], [{ kind: 'age-clustered', periodMs: 30_000 }])),
    );
    expect(rep.routes[0]!.findings.map((f) => f.kind)).toEqual(['age-clustered']);
  });
});

describe('diagnose: culprits by who closed and by timer family', () => {
  it('a backend-side 30 s idle cut lists `timeout server`, a client-side one `timeout client`', () => {
    const one = (initiator: string): string[] =>
      analyse(
        prom(
          route(
            'r',
            [['x_closed', initiator, 20]],
            [{ kind: 'age-clustered', periodMs: 30_000, initiator, local: false, timer: 'idle-timeout' }],
          ),
        ),
      ).routes[0]!.findings[0]!.culprits as string[];
    expect(one('backend').join('\n')).toContain('`timeout server 30s`');
    expect(one('backend').join('\n')).not.toContain('timeout client');
    expect(one('client').join('\n')).toContain('`timeout client 30s`');
    expect(one('client').join('\n')).not.toContain('timeout server');
  });

  it("Sightline's own kill: the setting first in what to check, the configured value, the measured one beside it", () => {
    const rep = analyse(
      admin(
        route(
          'api',
          [['lifetime', 'proxy', 20]],
          [
            {
              kind: 'age-clustered',
              periodMs: 3_000,
              measuredMs: 3_900,
              setting: 'maxConnectionLifetime: 3000',
              initiator: 'proxy',
              local: true,
              timer: 'age-cap',
              reasons: { lifetime: 20 },
              culprits: ["Sightline's own `maxConnectionLifetime: 3000` on route api (reason lifetime)"],
            },
          ],
        ),
      ),
    );
    const f = rep.routes[0]!.findings[0]!;
    expect(f.periodSeconds).toBe(3);
    expect(f.checks[0]).toBe('the setting that decided: `maxConnectionLifetime: 3000` on route api');
    expect(f.evidence).toContain(
      "reported at the configured `maxConnectionLifetime: 3000`; measured 3.9 s (Sightline's sweep kills up to one sample late)",
    );
    expect(renderText(rep)).toContain('connections on route api are being closed at 3.0 s of age, by Sightline itself');
  });

  it('no known default at the period: says so and lists the timers configured on the path', () => {
    const rep = analyse(
      admin(
        route(
          'r',
          [['backend_closed', 'backend', 20]],
          [
            {
              kind: 'age-clustered',
              periodMs: 7_000,
              initiator: 'backend',
              local: false,
              timer: 'idle-timeout',
              culprits: [],
              timersOnPath: ['inactivityTimeout: 20000 (20 s)'],
            },
          ],
        ),
      ),
    );
    const text = renderText(rep);
    expect(text).toContain(
      'likely culprits: no known default at this period (7.0 s); timers configured on this path:\n    - inactivityTimeout: 20000 (20 s)',
    );
  });

  it('the undecided wall-clock case shows the observation that decides', () => {
    const undecided =
      'undecided: this fits a per-connection timer at 29.8 s of age and a shared timer every 30 s alike (...)';
    const rep = analyse(
      admin(
        route(
          'r',
          [['backend_closed', 'backend', 60]],
          [{ kind: 'age-clustered', periodMs: 29_800, initiator: 'backend', local: false, undecided }],
        ),
      ),
    );
    expect(rep.routes[0]!.findings[0]!.evidence).toContain(undecided);
  });
});
