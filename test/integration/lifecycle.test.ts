/**
 * Lifecycle rules with millisecond settings and an injected clock: real sockets move real bytes,
 * the clock only moves when the test says so, and `proxy.tick()` runs one sweep.
 */
import { afterEach, describe, expect, it } from 'vitest';
import diagnostics from 'node:diagnostics_channel';
import type net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { ManualClock } from '../../src/core/clock.js';
import { CHANNEL_NAMES, type LifecycleEvent } from '../../src/core/channels.js';
import type { SightlineOptions } from '../../src/config/schema.js';
import {
  captureClientHello,
  connect,
  customServer,
  echoServer,
  freePort,
  readBytes,
  HOST,
  type TestServer,
} from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

interface Rig {
  clock: ManualClock;
  p: RunningProxy;
  port: number;
  backend: TestServer;
  /** Advance the clock, let sockets settle, run one sweep. */
  step(ms: number): Promise<number>;
  open(): number;
}

/** A pino logger whose lines are parsed back into objects. */
function memoryLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

async function rig(
  options: Partial<SightlineOptions>,
  backend?: TestServer,
  tls = false,
  logger: pino.Logger | null = null,
): Promise<Rig> {
  const be = backend ?? (await echoServer());
  const port = await freePort();
  const clock = new ManualClock(Date.now());
  const action = {
    type: 'forward' as const,
    target: { host: HOST, port: be.port },
    ...(tls ? { tls: { mode: 'passthrough' as const } } : {}),
  };
  const p = await startProxy(
    {
      gracefulShutdownTimeout: 200,
      ...options,
      routes: [{ name: 'r', match: { ports: port, ...(tls ? { domains: 'ok.test' } : {}) }, action }],
    } as SightlineOptions,
    { clock, autoTick: false, logger },
  );
  cleanup.push(
    () => be.close(),
    () => p.stop(),
  );
  return {
    clock,
    p,
    port,
    backend: be,
    async step(ms) {
      await new Promise((r) => setTimeout(r, 15));
      clock.advance(ms);
      return p.proxy.tick();
    },
    open: () => p.proxy.getStats().getActiveConnections(),
  };
}

async function echoRound(s: net.Socket, text = 'x'): Promise<void> {
  s.write(text);
  await readBytes(s, text.length);
}

function lifecycleEvents(proxyId: number): LifecycleEvent[] {
  const seen: LifecycleEvent[] = [];
  const fn = (m: unknown): void => {
    const e = m as LifecycleEvent;
    if (e.conn.proxyId === proxyId) seen.push(e);
  };
  diagnostics.subscribe(CHANNEL_NAMES.lifecycle, fn);
  cleanup.push(() => void diagnostics.unsubscribe(CHANNEL_NAMES.lifecycle, fn));
  return seen;
}

describe('keep-alive treatments', () => {
  it('standard: killed for inactivity once idle reaches inactivityTimeout; the record shows it', async () => {
    const r = await rig({ keepAliveTreatment: 'standard', inactivityTimeout: 1000 });
    const s = await connect(r.port);
    await echoRound(s);
    await r.step(0);
    const rec = [...r.p.proxy.connectionManager.getConnections().values()][0]!;
    expect(rec.effectiveIdleTimeout).toBe(1000);
    expect(rec.effectiveLifetime).toBe(86_400_000);
    expect(rec.keepAliveTreatment).toBe('standard');
    await r.step(999);
    expect(r.open()).toBe(1);
    expect(rec.idleFor).toBe(999);
    await r.step(1);
    const ev = await r.p.events.next();
    expect(ev.reason).toBe('inactivity');
    expect(ev.initiator).toBe('proxy');
    expect(ev.idleAtCloseMs).toBe(1000);
  });

  it('extended: warns when the idle timeout passes, kills after the grace (inactivity × multiplier)', async () => {
    const log = memoryLogger();
    const r = await rig(
      {
        keepAliveTreatment: 'extended',
        inactivityTimeout: 100,
        keepAliveInactivityMultiplier: 10,
        lifecycle: { extendedWarningGrace: 500 },
      },
      undefined,
      false,
      log.logger,
    );
    const warnings = lifecycleEvents(r.p.proxy.id);
    const s = await connect(r.port);
    await echoRound(s);
    await r.step(0);
    await r.step(999);
    expect(warnings).toHaveLength(0);
    await r.step(1);
    expect(warnings.map((w) => w.kind)).toEqual(['idle-warning']);
    expect(warnings[0]!.detail).toMatchObject({ idleTimeoutMs: 1000, graceMs: 500 });
    // ... and logged as a warning record naming the connection and the route.
    const logged = log.lines.find((l) => l.event === 'idle-warning');
    expect(logged).toMatchObject({ level: 40, route: 'r', idleTimeoutMs: 1000, graceMs: 500 });
    expect(r.open()).toBe(1);
    await r.step(499);
    expect(r.open()).toBe(1);
    await r.step(1);
    expect((await r.p.events.next()).reason).toBe('inactivity');
  });

  it('extended: a connection that wakes up during the grace survives and the warning is cleared', async () => {
    const r = await rig({
      keepAliveTreatment: 'extended',
      inactivityTimeout: 100,
      keepAliveInactivityMultiplier: 10,
      lifecycle: { extendedWarningGrace: 500 },
    });
    const warnings = lifecycleEvents(r.p.proxy.id);
    const s = await connect(r.port);
    await echoRound(s);
    await r.step(0);
    await r.step(1000);
    expect(warnings.map((w) => w.kind)).toEqual(['idle-warning']);
    await echoRound(s, 'awake');
    await r.step(400);
    expect(warnings.map((w) => w.kind)).toEqual(['idle-warning', 'idle-warning-cleared']);
    await r.step(999); // idle 999 < 1000 since waking: no new warning, not killed
    expect(r.open()).toBe(1);
    expect(warnings).toHaveLength(2);
    s.destroy();
  });

  it('immortal: survives far past every cap (ten years of idle)', async () => {
    const r = await rig({
      keepAliveTreatment: 'immortal',
      inactivityTimeout: 10,
      maxConnectionLifetime: 10,
      extendedKeepAliveLifetime: 10,
      socketTimeout: 10,
    });
    const s = await connect(r.port);
    await echoRound(s);
    await r.step(10 * 365 * 86_400_000);
    expect(r.open()).toBe(1);
    const rec = [...r.p.proxy.connectionManager.getConnections().values()][0]!;
    expect(rec.effectiveIdleTimeout).toBeNull();
    expect(rec.effectiveLifetime).toBeNull();
    await echoRound(s, 'still here');
    s.destroy();
  });

  it('lifetime: the age cap kills a busy connection', async () => {
    const r = await rig({ keepAliveTreatment: 'standard', inactivityTimeout: 100_000, maxConnectionLifetime: 5000 });
    const s = await connect(r.port);
    for (let i = 0; i < 4; i++) {
      await echoRound(s);
      await r.step(1000);
    }
    expect(r.open()).toBe(1);
    await echoRound(s);
    await r.step(1000);
    const ev = await r.p.events.next();
    expect(ev.reason).toBe('lifetime');
    expect(ev.idleAtCloseMs).toBeLessThanOrEqual(1000);
  });

  it('socketTimeout applies to connections that are not keep-alive, and never to keep-alive ones', async () => {
    const r = await rig({ keepAlive: false, socketTimeout: 300, inactivityTimeout: 10_000 });
    const s = await connect(r.port);
    await echoRound(s);
    await r.step(0);
    await r.step(300);
    expect((await r.p.events.next()).reason).toBe('socket_timeout');

    const k = await rig({
      keepAlive: true,
      keepAliveTreatment: 'standard',
      socketTimeout: 300,
      inactivityTimeout: 10_000,
    });
    const t = await connect(k.port);
    await echoRound(t);
    await k.step(0);
    await k.step(5000);
    expect(k.open()).toBe(1);
    t.destroy();
  });
});

describe('half-zombie and stuck detection', () => {
  const grace = { halfZombieGrace: 1000, halfZombieGraceTls: 5000, stuckThreshold: 2000, stuckThresholdTls: 8000 };

  it('half-zombie after a backend close: the client never ends its side, killed after the plain grace', async () => {
    const be = await customServer((sock) => sock.end('bye'));
    const r = await rig({ lifecycle: grace }, be);
    const s = await connect(r.port);
    await readBytes(s, 1e6); // 'bye' then the backend's FIN; the client keeps its side open
    await r.step(0);
    await r.step(999);
    expect(r.open()).toBe(1);
    await r.step(1);
    const ev = await r.p.events.next();
    expect(ev.reason).toBe('half_zombie');
    expect(ev.firstSide).toBe('backend');
    s.destroy();
  });

  it('half-zombie after a client close: the backend stays silent and open', async () => {
    const be = await customServer((sock) => sock.on('data', () => {}));
    const r = await rig({ lifecycle: grace }, be);
    const s = await connect(r.port);
    s.end('request');
    await new Promise((res) => setTimeout(res, 30));
    await r.step(0);
    await r.step(1000);
    const ev = await r.p.events.next();
    expect(ev.reason).toBe('half_zombie');
    expect(ev.firstSide).toBe('client');
  });

  it('TLS connections get the longer grace', async () => {
    const be = await customServer((sock) => sock.once('data', () => sock.end()));
    const r = await rig({ lifecycle: grace }, be, true);
    const s = await connect(r.port);
    s.write(await captureClientHello('ok.test'));
    await readBytes(s, 1e6);
    await r.step(0);
    await r.step(1000);
    expect(r.open()).toBe(1); // plain grace passed, TLS grace not
    await r.step(4000);
    expect((await r.p.events.next()).reason).toBe('half_zombie');
    s.destroy();
  });

  it('a half-close that keeps streaming longer than the grace is not killed', async () => {
    let stop!: () => void;
    const be = await customServer((sock) => {
      sock.resume(); // read (and drop) the request so 'end' can arrive
      sock.on('end', () => {
        const t = setInterval(() => sock.write('tick|'), 5);
        stop = () => {
          clearInterval(t);
          sock.end();
        };
      });
    });
    const r = await rig({ lifecycle: grace }, be);
    const s = await connect(r.port);
    let got = 0;
    s.on('data', (d: Buffer) => (got += d.length));
    s.end('go');
    for (let i = 0; i < 8; i++) {
      await new Promise((res) => setTimeout(res, 20)); // bytes flow in real time
      await r.step(500); // 4 s of clock in total, 4× the grace
      expect(r.open(), `step ${i}: ${r.p.events.reasons().join(',')}`).toBe(1);
    }
    expect(got).toBeGreaterThan(0);
    stop();
    expect((await r.p.events.next()).reason).toBe('client_closed');
  });

  it('stuck: the client spoke, the backend never answered and nothing moved for the threshold', async () => {
    const be = await customServer((sock) => sock.on('data', () => {}));
    const r = await rig({ lifecycle: grace }, be);
    const s = await connect(r.port);
    s.write('hello?');
    await new Promise((res) => setTimeout(res, 20));
    await r.step(0);
    await r.step(1999);
    expect(r.open()).toBe(1);
    await r.step(1);
    expect((await r.p.events.next()).reason).toBe('stuck');
    s.destroy();
  });

  it('a one-way upload that keeps moving is not stuck', async () => {
    const be = await customServer((sock) => sock.on('data', () => {}));
    const r = await rig({ lifecycle: grace }, be);
    const s = await connect(r.port);
    for (let i = 0; i < 6; i++) {
      s.write('log line\n');
      await r.step(1500); // 9 s of clock, far past the threshold, bytes moving every step
      expect(r.open()).toBe(1);
    }
    s.destroy();
  });
});
