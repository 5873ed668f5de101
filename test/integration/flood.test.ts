/**
 * A flood of bad clients (garbage, silence, instant resets) does not crash the proxy, does not
 * disturb a healthy connection, and every one of them is counted with its reason.
 */
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { captureClientHello, connect, echoServer, freePort, readBytes, waitFor, HOST } from '../helpers/net.js';
import { startProxy } from '../helpers/proxy.js';

describe('flood of bad clients', () => {
  it('600 bad connections: healthy traffic keeps flowing, every one is counted', async () => {
    const echo = await echoServer();
    const port = await freePort();
    const p = await startProxy({
      initialDataTimeout: 300,
      maxConnectionsPerIP: 0,
      connectionRateLimitPerMinute: 0,
      routes: [
        {
          name: 'sni',
          match: { ports: port, domains: 'ok.test' },
          action: { type: 'forward', target: { host: HOST, port: echo.port }, tls: { mode: 'passthrough' } },
        },
      ],
    });
    const hello = await captureClientHello('ok.test');
    const healthy = await connect(port);
    healthy.write(hello);
    await readBytes(healthy, hello.length);

    const N = 200;
    const bad: net.Socket[] = [];
    const open = (send: (s: net.Socket) => void): Promise<void> =>
      new Promise((resolve) => {
        const s = net.connect(port, HOST, () => {
          send(s);
          resolve();
        });
        s.on('error', () => resolve());
        s.resume();
        bad.push(s);
      });
    const garbage = (s: net.Socket): void => {
      const b = randomBytes(64);
      b[0] = 0x47;
      s.write(b);
    };
    await Promise.all([
      ...Array.from({ length: N }, () => open(garbage)),
      ...Array.from({ length: N }, () => open(() => {})), // silent
      ...Array.from({ length: N }, () => open((s) => s.resetAndDestroy())),
    ]);
    // The healthy connection is served while the flood is being handled.
    for (let i = 0; i < 5; i++) {
      healthy.write(`ping-${i}`);
      expect((await readBytes(healthy, 6)).toString()).toBe(`ping-${i}`);
    }
    const stats = () => p.proxy.getStats().getTerminationStats().byReason;
    const count = (r: string): number => Object.values(stats()[r] ?? {}).reduce((a, b) => a + b, 0);
    await waitFor(
      () =>
        count('not_tls') + count('initial_data_timeout') + count('client_reset') + count('closed_before_data') >= 3 * N,
      10_000,
      'every bad connection counted',
    );
    expect(count('not_tls')).toBe(N);
    expect(count('initial_data_timeout')).toBe(N);
    expect(count('client_reset') + count('closed_before_data')).toBe(N);
    expect(p.proxy.getStats().getActiveConnections()).toBe(1);
    healthy.write('after');
    expect((await readBytes(healthy, 5)).toString()).toBe('after');
    healthy.destroy();
    for (const s of bad) s.destroy();
    await p.stop();
    await echo.close();
  });
});
