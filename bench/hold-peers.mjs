#!/usr/bin/env node
// Child process for bench/sweep-cost.mjs: a backend that holds connections open, and N clients
// connected through the proxy under test. Keeping both ends out of the proxy's process leaves the
// proxy two file descriptors per connection, so ~9 900 fit under the 20 000 open-files limit.
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: { 'proxy-port': { type: 'string' }, n: { type: 'string' }, 'backend-port': { type: 'string' } },
});
const n = Number(a.n);
const backend = net.createServer((s) => {
  s.on('error', () => {});
  s.write('.'); // one byte so every path is confirmed end to end
});
backend.listen(Number(a['backend-port']), '127.0.0.1', async () => {
  process.send?.({ kind: 'backend-ready' });
});
const clients = [];
process.on('message', async (m) => {
  if (m.kind !== 'connect') return;
  let ok = 0;
  const batch = 128;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from(
        { length: Math.min(batch, n - i) },
        () =>
          new Promise((resolve) => {
            const c = net.connect(Number(a['proxy-port']), '127.0.0.1');
            c.on('error', () => resolve());
            c.once('data', () => {
              ok++;
              resolve();
            });
            clients.push(c);
          }),
      ),
    );
  }
  process.send?.({ kind: 'connected', ok });
});
process.on('disconnect', () => process.exit(0));
