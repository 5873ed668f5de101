/**
 * Diagnosis v2 through a real proxy on loopback with short periods, read back through the real
 * CLI (`sightline diagnose --admin`, needs `npm run build`): a backend closing every connection at
 * each multiple of 7 s with clients that reconnect at once and with clients that reconnect over
 * seconds (wall-clock-aligned either way), Sightline's own inactivity timeout (named by its setting
 * and configured value), and WebSocket clients that miss heartbeats (an abnormal-closes finding).
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { SightlineOptions } from '../../src/config/schema.js';
import type { DetectedPattern } from '../../src/telemetry/patterns.js';
import { customServer, freePort, waitFor, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';
import { sightline } from '../helpers/cli.js';

const TOKEN = 'v2-token';
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Routes = SightlineOptions['routes'];

async function proxy(routes: Routes, extra: Partial<SightlineOptions> = {}): Promise<RunningProxy> {
  const p = await startProxy({
    gracefulShutdownTimeout: 100,
    maxConnectionsPerIP: 0,
    connectionRateLimitPerMinute: 0,
    admin: { enabled: true, port: 0, token: TOKEN },
    routes,
    ...extra,
  } as SightlineOptions);
  cleanup.push(() => p.stop());
  return p;
}

const tcpRoute = (name: string, port: number, backendPort: number): Routes[number] => ({
  name,
  match: { ports: port },
  action: { type: 'forward', target: { host: HOST, port: backendPort } },
});

/** A backend whose one shared timer ends every open connection at each multiple of `periodMs`. */
async function wallClockBackend(periodMs: number): Promise<number> {
  const open = new Set<net.Socket>();
  const be = await customServer((s) => {
    s.on('error', () => {});
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  const t = setInterval(() => {
    for (const s of open) s.end();
  }, periodMs);
  cleanup.push(() => {
    clearInterval(t);
    return be.close();
  });
  return be.port;
}

/** `n` silent clients opened over `spreadMs`, each reconnecting `delay()` ms after every close. */
function reconnectingClients(port: number, n: number, spreadMs: number, delay: () => number): void {
  let running = true;
  cleanup.push(() => {
    running = false;
  });
  const open = (): void => {
    if (!running) return;
    const s = net.connect(port, HOST);
    s.on('error', () => {});
    s.on('end', () => s.end());
    s.on('close', () => setTimeout(open, delay()));
    cleanup.push(() => void s.destroy());
  };
  for (let i = 0; i < n; i++) setTimeout(open, (i * spreadMs) / n);
}

const standing = (p: RunningProxy, route: string): DetectedPattern[] =>
  p.proxy.telemetry!.standingPatterns().filter((x) => x.route === route);

describe('diagnosis v2 through a real proxy', () => {
  it('a wall-clock timer every 7 s: named as such with prompt and with spread reconnects, at the third kill', async () => {
    const PERIOD = 7_000;
    const [a, b] = await Promise.all([freePort(), freePort()]);
    const [beA, beB] = await Promise.all([wallClockBackend(PERIOD), wallClockBackend(PERIOD)]);
    const p = await proxy([tcpRoute('prompt', a, beA), tcpRoute('spread', b, beB)]);
    const t0 = Date.now();
    reconnectingClients(a, 10, 5_000, () => 5 + Math.random() * 30);
    reconnectingClients(b, 10, 5_000, () => Math.random() * 3_000);
    await waitFor(
      () => standing(p, 'prompt').length > 0 && standing(p, 'spread').length > 0,
      5 * PERIOD,
      'both findings',
    );
    // The backends' timers started before the clients: the third kill comes within 3 periods of t0.
    const detectedAfter = Date.now() - t0;
    expect(detectedAfter).toBeLessThanOrEqual(3 * PERIOD + 1_000);
    for (const route of ['prompt', 'spread']) {
      const [f, ...rest] = standing(p, route);
      expect(rest).toEqual([]);
      expect(f).toMatchObject({
        route,
        kind: 'wall-clock-aligned',
        initiator: 'backend',
        local: false,
        undecided: null,
      });
      expect(Math.abs(f!.periodMs - PERIOD)).toBeLessThanOrEqual(0.1 * PERIOD);
    }
    // Later bursts (the clients of "prompt" all ≈ 7 s old) keep it wall-clock, not an age cluster.
    await sleep(PERIOD + 500);
    expect(standing(p, 'prompt').map((x) => x.kind)).toEqual(['wall-clock-aligned']);

    const r = await sightline(['diagnose', '--admin', p.proxy.adminUrl!, '--token', TOKEN]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('route prompt: DISCONNECT PATTERN (wall-clock-aligned)');
    expect(r.out).toContain('route spread: DISCONNECT PATTERN (wall-clock-aligned)');
    expect(r.out).toMatch(/connections on route prompt are being closed together every (6\.\d|7\.\d) s/);
    // No product default at 7 s: the finding says so and lists Sightline's timers on the path.
    expect(r.out).toContain(
      'likely culprits: no known default at this period (7.0 s); timers configured on this path:',
    );
    expect(r.out).toContain('inactivityTimeout: 14400000 × keepAliveInactivityMultiplier: 6 (86400 s)');
  }, 60_000);

  it("Sightline's own inactivity timeout: the setting and its value first, reported at the configured 3 s", async () => {
    const be = await customServer((s) => s.on('error', () => {}));
    cleanup.push(() => be.close());
    const port = await freePort();
    const p = await proxy([tcpRoute('own-idle', port, be.port)], {
      inactivityTimeout: 3_000,
      keepAliveTreatment: 'standard',
      inactivityCheckInterval: 250,
      lifecycle: { activitySampleInterval: 250 },
    } as Partial<SightlineOptions>);
    for (let i = 0; i < 12; i++) {
      const s = net.connect(port, HOST);
      s.on('error', () => {});
      cleanup.push(() => void s.destroy());
      await sleep(400);
    }
    await waitFor(() => standing(p, 'own-idle').length > 0, 15_000, 'a finding');
    const [f] = standing(p, 'own-idle');
    expect(f).toMatchObject({
      kind: 'age-clustered',
      initiator: 'proxy',
      local: true,
      setting: 'inactivityTimeout: 3000',
      periodMs: 3_000,
    });
    expect(f!.measuredMs).toBeGreaterThanOrEqual(3_000);
    expect(f!.culprits[0]).toBe("Sightline's own `inactivityTimeout: 3000` on route own-idle (reason inactivity)");
    expect(f!.culprits.join(' ')).not.toMatch(/HAProxy|Azure|nginx|CDN/);

    const r = await sightline(['diagnose', '--admin', p.proxy.adminUrl!, '--token', TOKEN]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('connections on route own-idle are being closed at 3.0 s');
    expect(r.out).toContain('the setting that decided: `inactivityTimeout: 3000` on route own-idle');
  }, 30_000);

  it("a route reload tells the detector the new route's timers", async () => {
    const port = await freePort();
    const p = await proxy([tcpRoute('old', port, 1)]);
    await p.proxy.updateRoutes([
      {
        name: 'new',
        match: { ports: port },
        action: {
          type: 'forward',
          target: { host: HOST, port: 1 },
          protocol: 'http',
          websocket: { pingInterval: 900, pingTimeout: 100 },
        },
      },
    ] as Routes);
    const det = p.proxy.telemetry!.patterns!;
    const now = Date.now();
    for (let i = 0; i < 12; i++) {
      det.observe({
        route: 'new',
        at: now + i * 100,
        durationMs: 1_000,
        idleAtCloseMs: 1_000,
        initiator: 'proxy',
        local: true,
        reason: 'heartbeat_timeout',
      });
    }
    const [f] = det.snapshot(now + 2_000).filter((x) => x.kind === 'abnormal-reason');
    expect(f?.setting).toBe('websocket.pingInterval: 900 + pingTimeout: 100');
  });

  it('WebSocket clients that stop answering pings: an abnormal-closes finding, exit 1, naming the heartbeat setting', async () => {
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.on('error', () => {}));
    await new Promise<void>((r) => server.listen(0, HOST, r));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          for (const c of wss.clients) c.terminate();
          server.close(() => r());
        }),
    );
    const port = await freePort();
    const p = await proxy([
      {
        name: 'hb',
        match: { ports: port },
        action: {
          type: 'forward',
          target: { host: HOST, port: (server.address() as AddressInfo).port },
          protocol: 'http',
          websocket: { pingInterval: 200, pingTimeout: 150 },
        },
      },
    ]);
    // 12 clients at random moments; each one stops answering pings (autoPong off).
    for (let i = 0; i < 12; i++) {
      const ws = new WebSocket(`ws://${HOST}:${port}/`, { autoPong: false });
      ws.on('error', () => {});
      cleanup.push(() => ws.terminate());
      await sleep(50 + Math.random() * 150);
    }
    await waitFor(() => standing(p, 'hb').length > 0, 10_000, 'a finding');
    const [f] = standing(p, 'hb');
    expect(f).toMatchObject({
      kind: 'abnormal-reason',
      initiator: 'proxy',
      local: true,
      setting: 'websocket.pingInterval: 200 + pingTimeout: 150',
    });
    expect(f!.reasons.heartbeat_timeout).toBeGreaterThanOrEqual(10);

    const admin = new URL(p.proxy.adminUrl!);
    const metrics = await (
      await fetch(new URL('metrics', admin), { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(metrics).toMatch(/sightline_disconnect_patterns_total\{route="hb",kind="abnormal-reason"\} 1/);

    const r = await sightline(['diagnose', '--admin', admin.href, '--token', TOKEN]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('route hb: ABNORMAL CLOSES (abnormal-reason)');
    expect(r.out).toMatch(
      /connections on route hb mostly end abnormally: \d+ closes in the detector's last 10 min, mostly heartbeat_timeout, by Sightline itself/,
    );
    expect(r.out).toContain('the setting that decided: `websocket.pingInterval: 200 + pingTimeout: 150` on route hb');
    expect(r.out).toMatch(/result: 1 abnormal-close finding on 1 route \(exit 1\)\n$/);
  }, 30_000);
});
