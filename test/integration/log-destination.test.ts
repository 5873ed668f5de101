/**
 * Output (issue 11 §8): a log destination that cannot be opened fails start() naming
 * `telemetry.logging.destination` (the CLI exits 2: see the config corpus), and leaves no
 * listener behind; a writable file gets the JSON lines.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { SightlineProxy } from '../../src/server.js';
import { connect, echoRoundTrip, echoServer, freePort, HOST, waitFor } from '../helpers/net.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sightline-logdest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = (port: number, target: number, destination: string) => ({
  listenHost: HOST,
  routes: [
    { name: 'r', match: { ports: port }, action: { type: 'forward' as const, target: { host: HOST, port: target } } },
  ],
  telemetry: { logging: { destination } },
});

describe('log destination', () => {
  for (const [what, dest] of [
    ['a missing directory', '/nonexistent/dir/sightline.log'],
    ['a directory', '/tmp'],
  ] as const) {
    it(`${what}: start() rejects naming telemetry.logging.destination, nothing is left listening`, async () => {
      const port = await freePort();
      const proxy = new SightlineProxy(options(port, 9, dest));
      const err = await proxy.start().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SightlineError);
      expect((err as Error).message).toContain(`telemetry.logging.destination: cannot open ${dest} for writing`);
      expect(proxy.listeningPorts).toEqual([]);
      await expect(connect(port)).rejects.toThrow(/ECONNREFUSED/);
    });
  }

  it('a writable file gets one JSON access line per connection', async () => {
    const echo = await echoServer();
    const port = await freePort();
    const file = path.join(dir, 'access.log');
    const proxy = new SightlineProxy(options(port, echo.port, file));
    await proxy.start();
    try {
      await echoRoundTrip(port, 'hello');
      await waitFor(() => proxy.getStats().getActiveConnections() === 0);
    } finally {
      await proxy.stop();
      await echo.close();
    }
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event?: string; reason?: string });
    expect(lines.filter((l) => l.event === 'access').map((l) => l.reason)).toEqual(['client_closed']);
  });
});
