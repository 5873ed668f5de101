/**
 * The demo's own servers, all on loopback: an echo backend (the healthy route), a long-lived
 * "WebSocket-ish" backend (greets, then keeps the connection open and echoes), and a simulated
 * upstream load balancer that sits between Sightline and the long-lived backend and cuts any
 * connection idle for `idleMs` with a FIN to both sides, as an HAProxy `timeout client 30s`
 * without `timeout tunnel` or a cloud load balancer's idle timeout does. Sightline therefore sees
 * the close coming from its backend side, at a fixed age, idle at close ≈ that age.
 */
import net from 'node:net';
import { listen } from '../core/listen.js';

export interface DemoServer {
  readonly port: number;
  close(): Promise<void>;
}

async function serve(server: net.Server, host: string): Promise<DemoServer> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await listen(server, { port: 0, host });
  server.on('error', () => {});
  const port = (server.address() as net.AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

/** Echoes every byte back; ends after the client's FIN. */
export function startEchoBackend(host = '127.0.0.1'): Promise<DemoServer> {
  return serve(
    net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      s.pipe(s);
    }),
    host,
  );
}

/** A long-lived backend: one greeting line (the "handshake"), then echo; never closes on its own. */
export function startLongLivedBackend(host = '127.0.0.1'): Promise<DemoServer> {
  return serve(
    net.createServer((s) => {
      s.on('error', () => {});
      s.write('welcome: this connection stays open until someone closes it\n');
      s.pipe(s);
    }),
    host,
  );
}

/**
 * A TCP middlebox in front of `target` that closes connections idle (no byte either way) for
 * `idleMs`: FIN to both sides, then a hard close one second later if a side lingers. Returns the
 * number of connections it has cut so far through `cut()`.
 */
export async function startIdleCutter(
  target: { host: string; port: number },
  idleMs: number,
  host = '127.0.0.1',
): Promise<DemoServer & { cut(): number }> {
  let cuts = 0;
  const server = net.createServer((inbound) => {
    const outbound = net.connect(target.port, target.host);
    const teardown = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', teardown);
    outbound.on('error', teardown);
    inbound.once('close', () => outbound.destroy());
    outbound.once('close', () => inbound.destroy());
    // Socket timeouts are refreshed by reads and writes, so bytes in either direction count.
    inbound.setTimeout(idleMs, () => {
      cuts++;
      inbound.end();
      outbound.end();
      setTimeout(teardown, 1000).unref();
    });
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  const s = await serve(server, host);
  return { ...s, cut: () => cuts };
}
