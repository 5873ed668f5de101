/** The one listen helper: settles once, names the port in SL_ERR_LISTEN, leaves no error listener behind. */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SightlineError } from '../../../src/core/errors.js';
import { listen } from '../../../src/core/listen.js';

const open: net.Server[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => new Promise((r) => (s.listening ? s.close(r) : r(undefined)))));
});

function server(): net.Server {
  const s = net.createServer();
  open.push(s);
  return s;
}

describe('listen', () => {
  it('resolves once listening and removes its error listener', async () => {
    const s = server();
    await listen(s, { port: 0, host: '127.0.0.1' });
    expect(s.listening).toBe(true);
    expect(s.listenerCount('error')).toBe(0);
  });

  it('rejects with the system error when the port is taken, or with SL_ERR_LISTEN naming it', async () => {
    const first = server();
    await listen(first, { port: 0, host: '127.0.0.1' });
    const { port } = first.address() as net.AddressInfo;

    const raw = listen(server(), { port, host: '127.0.0.1' });
    await expect(raw).rejects.toMatchObject({ code: 'EADDRINUSE' });

    const err = await listen(server(), { port, host: '127.0.0.1' }, `port ${port} on 127.0.0.1`).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SightlineError);
    expect(err).toMatchObject({ code: 'SL_ERR_LISTEN', cause: { code: 'EADDRINUSE' } });
    expect((err as Error).message).toContain(`port ${port} on 127.0.0.1: EADDRINUSE`);
  });
});
