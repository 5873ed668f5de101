/**
 * Drain without a herd (issue 13 point 3): with `drain.spreadMs`, a stop closes long-lived
 * connections spread over the window instead of all at once; every such close is `shutdown` by
 * the proxy, and the pattern detector never reports drain closes as a disconnect pattern.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import http from 'node:http';
import { CloseReason } from '../../src/core/close-reasons.js';
import type { CloseEvent } from '../../src/core/channels.js';
import { PatternDetector } from '../../src/telemetry/patterns.js';
import { patternSampleOf } from '../../src/telemetry/pattern-feed.js';
import { echoServer, freePort, waitFor, HOST, type TestServer } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

const N = 20;
let echo: TestServer | null = null;
let p: RunningProxy | null = null;

afterEach(async () => {
  await p?.stop();
  await echo?.close();
  p = null;
  echo = null;
});

/** Open N tunnels, stop the proxy, and return when each client saw its connection end (ms after stop). */
async function drainTimes(spreadMs: number): Promise<number[]> {
  echo = await echoServer();
  const port = await freePort();
  p = await startProxy({
    gracefulShutdownTimeout: 1500,
    drain: { spreadMs },
    routes: [
      { name: 'tunnel', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: echo.port } } },
    ],
  });
  const ends: Array<Promise<number>> = [];
  for (let i = 0; i < N; i++) {
    const s = net.connect(port, HOST);
    s.on('error', () => {});
    await new Promise<void>((r) => s.once('connect', () => r()));
    ends.push(new Promise((r) => s.once('close', () => r(Date.now()))));
  }
  await waitFor(() => p!.proxy.getStats().getActiveConnections() === N, 3000, 'all tunnels open');
  const t0 = Date.now();
  await p.stop();
  const times = (await Promise.all(ends)).map((t) => t - t0).sort((a, b) => a - b);
  expect(p.events.events.filter((e) => e.reason === CloseReason.Shutdown && e.initiator === 'proxy')).toHaveLength(N);
  return times;
}

/** Most closes that fell within any 100 ms. */
function densest(times: number[]): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[j]! < times[i]! - 100) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('drain.spreadMs', () => {
  it('without a window every tunnel is closed in the same instant, at gracefulShutdownTimeout', async () => {
    const t = await drainTimes(0);
    expect(densest(t)).toBe(N);
    expect(t[0]!).toBeGreaterThanOrEqual(1400);
  }, 15_000);

  it('with a window the closes are spread evenly over it, oldest first, all recorded as shutdown', async () => {
    const t = await drainTimes(1000);
    // 20 closes over 1 s: about 2 per 100 ms; a herd would put them all in one.
    expect(densest(t)).toBeLessThanOrEqual(6);
    expect(t[N - 1]! - t[0]!).toBeGreaterThanOrEqual(700);
    expect(t[N - 1]!).toBeLessThan(1400); // before the graceful deadline
  }, 15_000);

  it('spreads WebSocket close frames (1001) too', async () => {
    const web = http.createServer();
    const wss = new WebSocketServer({ server: web });
    await new Promise<void>((r) => web.listen(0, HOST, r));
    const port = await freePort();
    p = await startProxy({
      gracefulShutdownTimeout: 3000,
      drain: { spreadMs: 800 },
      routes: [
        {
          name: 'ws',
          match: { ports: port },
          action: {
            type: 'forward',
            protocol: 'http',
            target: { host: HOST, port: (web.address() as net.AddressInfo).port },
          },
        },
      ],
    });
    const codes: Array<Promise<[number, number]>> = [];
    for (let i = 0; i < 10; i++) {
      const ws = new WebSocket(`ws://${HOST}:${port}/`);
      await new Promise((r) => ws.once('open', r));
      codes.push(new Promise((r) => ws.once('close', (code) => r([code, Date.now()]))));
    }
    const t0 = Date.now();
    await p.stop();
    const got = await Promise.all(codes);
    expect(got.map((g) => g[0])).toEqual(Array(10).fill(1001));
    const times = got.map((g) => g[1] - t0).sort((a, b) => a - b);
    expect(times[9]! - times[0]!).toBeGreaterThanOrEqual(500);
    expect(p.events.events.filter((e) => e.reason === CloseReason.Shutdown)).toHaveLength(10);
    wss.close();
    await new Promise((r) => web.close(r));
  }, 15_000);
});

describe('drain closes never make a disconnect pattern', () => {
  /** Twelve closes at the same age (5 s), 3 s apart: a textbook age-clustered pattern... */
  const events = (reason: string): CloseEvent[] =>
    Array.from(
      { length: 12 },
      (_, i) =>
        ({
          conn: { routeName: 'r', proxyId: 1 },
          reason,
          initiator: 'proxy',
          endKind: 'local',
          durationMs: 5000 + i,
          idleAtCloseMs: 5000,
          at: i * 3000,
        }) as unknown as CloseEvent,
    );

  const feed = (reason: string): number => {
    const d = new PatternDetector();
    let found = 0;
    events(reason).forEach((e, i) => {
      const s = patternSampleOf(e, 1_000_000 + i * 3000);
      if (s !== null) found += d.observe(s).length;
    });
    return found + d.snapshot(1_000_000 + 40_000).length;
  };

  it('...is found when the proxy closed them for their age (lifetime)...', () => {
    expect(feed(CloseReason.Lifetime)).toBeGreaterThan(0);
  });

  it('...and ignored when they are drain closes (shutdown)', () => {
    expect(feed(CloseReason.Shutdown)).toBe(0);
  });
});
