/**
 * A tiny local backend for the quick start: it greets each connection and echoes what it is
 * sent, so `sightline start -c examples/quickstart.yaml --demo-backend` works with nothing else
 * installed.
 */
import net from 'node:net';
import { listen } from '../core/listen.js';

export async function startDemoBackend(port: number, host = '127.0.0.1'): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.write('hello from the sightline demo backend; type something and it comes back\n');
    s.pipe(s);
  });
  await listen(server, { port, host });
  return server;
}
