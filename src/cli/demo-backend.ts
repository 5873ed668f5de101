/**
 * A tiny local backend for the quick start: it greets each connection and echoes what it is
 * sent, so `sightline start -c examples/quickstart.yaml --demo-backend` works with nothing else
 * installed.
 */
import net from 'node:net';

export async function startDemoBackend(port: number, host = '127.0.0.1'): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.write('hello from the sightline demo backend; type something and it comes back\n');
    s.pipe(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  return server;
}
