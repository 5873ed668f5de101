/**
 * backend_dns_failed (issue 14) for real: a route whose target does not resolve (`.invalid` is
 * reserved never to resolve, RFC 6761), on a TCP route and on an HTTP route (502).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closed, connect, freePort, readBytes } from '../helpers/net.js';
import { startProxy } from '../helpers/proxy.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const NOWHERE = 'nonexistent.invalid';

describe('backend_dns_failed', () => {
  it('a TCP route whose target name does not resolve', async () => {
    const port = await freePort();
    const p = await startProxy({
      gracefulShutdownTimeout: 100,
      routes: [
        { name: 'dns', match: { ports: port }, action: { type: 'forward', target: { host: NOWHERE, port: 80 } } },
      ],
    });
    cleanup.push(() => p.stop());
    const s = await connect(port);
    s.write('hello');
    await closed(s, 10_000);
    const ev = await p.events.next(() => true, 10_000);
    expect(ev).toMatchObject({
      reason: 'backend_dns_failed',
      initiator: 'backend',
      phase: 'connecting',
      target: `${NOWHERE}:80`,
    });
    expect(ev.error).toMatch(/^(ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME)$/);
  }, 15_000);

  it('an HTTP route: 502 to the client, the exchange and the connection say backend_dns_failed', async () => {
    const port = await freePort();
    const p = await startProxy({
      gracefulShutdownTimeout: 100,
      routes: [
        {
          name: 'dns-http',
          match: { ports: port },
          action: { type: 'forward', protocol: 'http', target: { host: NOWHERE, port: 80 } },
        },
      ],
    });
    cleanup.push(() => p.stop());
    const s = await connect(port);
    s.write(`GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const res = (await readBytes(s, 12, 10_000)).toString();
    expect(res).toMatch(/^HTTP\/1\.1 502/);
    const req = await p.requests.next(() => true, 10_000);
    expect(req).toMatchObject({ status: 502, reason: 'backend_dns_failed' });
    s.destroy();
  }, 15_000);
});
