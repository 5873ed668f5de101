/**
 * write_stall (issue 14): a peer that stops reading while the other side floods is closed after
 * `lifecycle.writeStallTimeout`, with the stalled peer as initiator; a slow peer that keeps
 * reading is not. Real sockets on loopback, a short timeout, the real sweep.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type net from 'node:net';
import { closed, connect, customServer, freePort, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** Write as fast as `s` takes it (honouring backpressure) until it closes. */
function flood(s: net.Socket): void {
  const pump = (): void => {
    while (!s.destroyed && s.write(CHUNK));
  };
  s.on('drain', pump);
  s.on('error', () => {});
  pump();
}

async function rig(
  backend: (s: net.Socket) => void,
  writeStallTimeout = 400,
): Promise<{ p: RunningProxy; port: number }> {
  const srv = await customServer(backend);
  cleanup.push(() => srv.close());
  const port = await freePort();
  const p = await startProxy({
    gracefulShutdownTimeout: 100,
    lifecycle: { writeStallTimeout, activitySampleInterval: 50 },
    routes: [
      { name: 'flood', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: srv.port } } },
    ],
  });
  cleanup.push(() => p.stop());
  return { p, port };
}

describe('write_stall', () => {
  it('a client that stops reading while the backend floods: closed, initiator client', async () => {
    const { p, port } = await rig(flood);
    const s = await connect(port);
    s.pause(); // reads nothing, ever
    const started = Date.now();
    const ev = await p.events.next(() => true, 15_000);
    expect(ev).toMatchObject({ reason: 'write_stall', initiator: 'client', endKind: 'local', phase: 'tunnel' });
    // The buffers fill first (loopback autotunes to MBs), then the timeout runs.
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(ev.bytesToClient).toBeGreaterThan(0);
    await closed(s); // (resumes reading: only after the close was decided)
  }, 20_000);

  it('a backend that stops reading while the client floods: closed, initiator backend', async () => {
    const { p, port } = await rig((s) => s.pause());
    const s = await connect(port);
    flood(s);
    const ev = await p.events.next(() => true, 15_000);
    expect(ev).toMatchObject({ reason: 'write_stall', initiator: 'backend' });
    await closed(s);
  }, 20_000);

  it('a client that reads in bursts with pauses shorter than the timeout is not closed; 0 turns the check off', async () => {
    for (const timeout of [400, 0]) {
      const { p, port } = await rig(flood, timeout);
      const s = await connect(port);
      s.pause();
      s.on('data', () => {});
      // timeout 400: read for 30 ms every 200 ms, a peer that is slow but alive. 0: never read.
      const reader = setInterval(() => {
        if (timeout === 0) return;
        s.resume();
        setTimeout(() => s.pause(), 30);
      }, 200);
      await new Promise((r) => setTimeout(r, 1_500));
      clearInterval(reader);
      expect(p.events.reasons(), `timeout ${timeout}`).toEqual([]);
      expect(s.destroyed).toBe(false);
      s.destroy();
    }
  }, 20_000);
});
