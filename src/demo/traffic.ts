/**
 * Demo traffic, all from 127.0.0.1 through the proxy:
 * - healthy route: one short request/response connection every `shortEveryMs` (connect, send a
 *   line, read the echo, close: well under the detector's 1 s floor, so it is churn, not a
 *   fingerprint) and `idleCount` long-lived connections that stay open and silent;
 * - load-balanced route: a new idle long-lived connection every `openEveryMs`, each left alone
 *   until something on the path closes it.
 */
import net from 'node:net';

export interface TrafficOptions {
  readonly host: string;
  readonly healthyPort: number;
  readonly lbPort: number;
  readonly shortEveryMs: number;
  readonly idleCount: number;
  readonly openEveryMs: number;
}

export interface TrafficCounts {
  /** Short request/response exchanges completed on the healthy route. */
  readonly exchanges: number;
  /** Long-lived connections currently open on the healthy route. */
  readonly healthyOpen: number;
  /** Connections opened / currently open / closed by the far side on the load-balanced route. */
  readonly lbOpened: number;
  readonly lbOpen: number;
  readonly lbClosed: number;
}

export class DemoTraffic {
  readonly #o: TrafficOptions;
  readonly #sockets = new Set<net.Socket>();
  readonly #timers: NodeJS.Timeout[] = [];
  #stopped = false;
  #exchanges = 0;
  #healthyOpen = 0;
  #lbOpened = 0;
  #lbOpen = 0;
  #lbClosed = 0;

  constructor(o: TrafficOptions) {
    this.#o = o;
  }

  start(): void {
    for (let i = 0; i < this.#o.idleCount; i++) this.#idleHealthy();
    this.#openLb();
    this.#timers.push(setInterval(() => this.#shortExchange(), this.#o.shortEveryMs));
    this.#timers.push(setInterval(() => this.#openLb(), this.#o.openEveryMs));
  }

  counts(): TrafficCounts {
    return {
      exchanges: this.#exchanges,
      healthyOpen: this.#healthyOpen,
      lbOpened: this.#lbOpened,
      lbOpen: this.#lbOpen,
      lbClosed: this.#lbClosed,
    };
  }

  /** Stop generating and end every open demo connection (a client FIN each). */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
    for (const s of this.#sockets) s.end();
    // Anything still half-open a moment later is torn down.
    setTimeout(() => {
      for (const s of this.#sockets) s.destroy();
    }, 500).unref();
  }

  #connect(port: number): net.Socket {
    const s = net.connect(port, this.#o.host);
    this.#sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => this.#sockets.delete(s));
    // Read (and drop) whatever arrives: a paused socket never sees the far side's FIN.
    s.on('data', () => {});
    return s;
  }

  #shortExchange(): void {
    if (this.#stopped) return;
    const s = this.#connect(this.#o.healthyPort);
    s.setTimeout(5000, () => s.destroy());
    s.once('connect', () => s.write('GET /ping\n'));
    s.once('data', () => {
      this.#exchanges++;
      s.end();
    });
  }

  #idleHealthy(): void {
    const s = this.#connect(this.#o.healthyPort);
    let connected = false;
    s.once('connect', () => {
      connected = true;
      this.#healthyOpen++;
    });
    s.once('close', () => {
      if (connected) this.#healthyOpen--;
    });
  }

  #openLb(): void {
    if (this.#stopped) return;
    const s = this.#connect(this.#o.lbPort);
    let connected = false;
    s.once('connect', () => {
      connected = true;
      this.#lbOpened++;
      this.#lbOpen++;
    });
    // The far side ended it (the load balancer's FIN, passed on by Sightline).
    s.once('end', () => {
      if (!this.#stopped) this.#lbClosed++;
    });
    s.once('close', () => {
      if (connected) this.#lbOpen--;
    });
  }
}
