/**
 * The culprits and the traffic of the diagnosis scenario suite (test/e2e/diagnose-scenarios.test.ts),
 * all real sockets on 127.0.0.1: backends that cut idle connections, close everything on a
 * wall-clock timer, never answer or reset at random; a "load balancer in front" (a TCP forwarder
 * that cuts idle connections); clients that reconnect after each close, plain or WebSocket.
 * Every culprit calls `mark()` when it acts, so the suite measures detection from its first act.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { customServer, echoServer, HOST } from './net.js';

/** Things to stop at the end, in reverse order. */
export class Peers {
  readonly #stops: Array<() => Promise<void> | void> = [];
  running = true;

  add(f: () => Promise<void> | void): void {
    this.#stops.push(f);
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const f of this.#stops.splice(0).reverse()) await f();
  }

  /** A backend that ends a connection once it has been silent for `idleMs` (an idle timer). */
  async idleCutBackend(idleMs: number, mark: () => void): Promise<number> {
    const be = await customServer((s) => {
      s.on('error', () => {});
      s.resume();
      s.on('end', () => s.end());
      s.setTimeout(idleMs, () => {
        mark();
        s.end();
      });
    });
    this.add(() => be.close());
    return be.port;
  }

  /** A backend that reads, never writes, and ends only after the other side ended and it is told to. */
  async silentBackend(): Promise<number> {
    const be = await customServer((s) => {
      s.on('error', () => {});
      s.resume();
    });
    this.add(() => be.close());
    return be.port;
  }

  /** A backend that answers the client's FIN with its own and is otherwise silent. */
  async politeBackend(): Promise<number> {
    const be = await customServer((s) => {
      s.on('error', () => {});
      s.resume();
      s.on('end', () => s.end());
    });
    this.add(() => be.close());
    return be.port;
  }

  async echoBackend(): Promise<number> {
    const be = await echoServer();
    this.add(() => be.close());
    return be.port;
  }

  /** A backend whose one shared timer ends every open connection at each multiple of `periodMs` from start(). */
  async wallClockBackend(periodMs: number, mark: () => void): Promise<{ port: number; start(): void }> {
    const open = new Set<net.Socket>();
    const be = await customServer((s) => {
      s.on('error', () => {});
      s.resume();
      s.on('end', () => s.end());
      open.add(s);
      s.on('close', () => open.delete(s));
    });
    let t: NodeJS.Timeout | undefined;
    this.add(() => {
      clearInterval(t);
      return be.close();
    });
    const tick = (): void => {
      if (open.size > 0) mark();
      for (const s of open) s.end();
    };
    return { port: be.port, start: () => void (t = setInterval(tick, periodMs)) };
  }

  /** A backend that echoes and aborts each connection with RST `after()` ms after accepting it. */
  async resettingBackend(after: () => number, mark: () => void): Promise<number> {
    const be = await customServer((s) => {
      s.on('error', () => {});
      s.pipe(s);
      const t = setTimeout(() => {
        mark();
        s.resetAndDestroy();
      }, after());
      s.on('close', () => clearTimeout(t));
    });
    this.add(() => be.close());
    return be.port;
  }

  /** A WebSocket backend (it never pings; Sightline's heartbeat does). */
  async wsBackend(): Promise<number> {
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.on('error', () => {}));
    await new Promise<void>((r) => server.listen(0, HOST, r));
    this.add(
      () =>
        new Promise<void>((r) => {
          for (const c of wss.clients) c.terminate();
          server.close(() => r());
        }),
    );
    return (server.address() as AddressInfo).port;
  }

  /**
   * A load balancer in front of Sightline: forwards `listen`-side connections to `upstreamPort`
   * and ends both sides of one that moved no byte for `idleMs`.
   */
  async idleCutForwarder(upstreamPort: number, idleMs: number, mark: () => void): Promise<number> {
    const lb = await customServer((c) => {
      const u = net.connect(upstreamPort, HOST);
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
      c.pipe(u);
      u.pipe(c);
      c.setTimeout(idleMs, () => {
        mark();
        c.end();
        u.end();
      });
      c.on('close', () => u.destroy());
      u.on('close', () => c.destroy());
    });
    this.add(() => lb.close());
    return lb.port;
  }

  /**
   * `n` TCP clients opened over `spreadMs`, each reopened `delay()` ms after it closed. `onOpen`
   * shapes what each one does (write, half-close, end after a lifetime); by default it stays silent
   * and answers the far side's FIN.
   */
  tcpClients(
    port: number,
    n: number,
    spreadMs: number,
    delay: () => number,
    onOpen: (s: net.Socket) => void = () => {},
    onClose: () => void = () => {},
  ): void {
    const open = (): void => {
      if (!this.running) return;
      const s = net.connect(port, HOST);
      s.on('error', () => {});
      s.resume();
      s.on('connect', () => onOpen(s));
      s.on('close', () => {
        onClose();
        setTimeout(open, delay());
      });
      this.add(() => void s.destroy());
    };
    this.#staggered(n, spreadMs, open);
  }

  /**
   * Run `open` `n` times, `spreadMs / n` apart, each wait starting after the previous open: a
   * stalled event loop (a loaded CI machine) delays the clients but does not bunch them together
   * (the detector takes connections opened together for one event).
   */
  #staggered(n: number, spreadMs: number, open: () => void): void {
    let left = n;
    const next = (): void => {
      if (left-- <= 0 || !this.running) return;
      open();
      setTimeout(next, spreadMs / n);
    };
    next();
  }

  /**
   * `n` WebSocket clients opened over `spreadMs`, each reopened `delay()` ms after it closed;
   * each answers pings until `answerForMs()` ms after it opened (Infinity: always; 0: never).
   */
  wsClients(
    port: number,
    n: number,
    spreadMs: number,
    delay: () => number,
    answerForMs: () => number,
    onClose: () => void = () => {},
  ): void {
    const open = (): void => {
      if (!this.running) return;
      const ws = new WebSocket(`ws://${HOST}:${port}/`, { autoPong: false });
      const until = Date.now() + answerForMs();
      ws.on('error', () => {});
      ws.on('ping', (d: Buffer) => {
        if (Date.now() < until) ws.pong(d);
      });
      ws.on('close', () => {
        onClose();
        setTimeout(open, delay());
      });
      this.add(() => ws.terminate());
    };
    this.#staggered(n, spreadMs, open);
  }
}
