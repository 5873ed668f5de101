/**
 * The proxy's listening sockets, one per port its routes use (server.ts owns one set). A swap opens
 * the new ports first and closes again what it opened when one cannot be bound, so a failed reload
 * leaves the running set as it was; ports no route uses any more then stop accepting (their live
 * connections go on).
 */
import type net from 'node:net';
import { once } from 'node:events';
import { listen } from '../core/listen.js';
import type { ProxyContext } from './context.js';
import { createListener } from './listener.js';

export class ListenerSet {
  readonly #ctx: ProxyContext;
  /** SO_REUSEPORT (cluster workers: the kernel balances connections between them). */
  readonly #reusePort: boolean;
  readonly #servers = new Map<number, net.Server>();

  constructor(ctx: ProxyContext, reusePort: boolean) {
    this.#ctx = ctx;
    this.#reusePort = reusePort;
  }

  /** Ports with a listener, in ascending order. */
  get ports(): number[] {
    return [...this.#servers.keys()].sort((a, b) => a - b);
  }

  /** Listen on `port` (SL_ERR_LISTEN naming it when it cannot be bound). */
  async listen(port: number): Promise<void> {
    const server = createListener(this.#ctx, port);
    const host = this.#ctx.options.listenHost;
    const what = `port ${port}${host ? ` on ${host}` : ''}`;
    await listen(server, { port, host, backlog: 4096, reusePort: this.#reusePort }, what);
    this.#servers.set(port, server);
  }

  /** Listen on every port of `wanted` not open yet; when one fails, close those this call opened and throw. */
  async openMissing(wanted: ReadonlySet<number>): Promise<void> {
    const opened: number[] = [];
    try {
      for (const p of wanted) {
        if (this.#servers.has(p)) continue;
        await this.listen(p);
        opened.push(p);
      }
    } catch (err) {
      for (const p of opened) {
        this.#servers.get(p)?.close();
        this.#servers.delete(p);
      }
      throw err;
    }
  }

  /** Stop accepting on every port not in `wanted`. */
  closeUnwanted(wanted: ReadonlySet<number>): void {
    for (const [p, s] of this.#servers) {
      if (!wanted.has(p)) {
        this.#servers.delete(p);
        s.close();
      }
    }
  }

  /** Stop accepting everywhere (at once); resolves when every listener has closed. */
  async closeAll(): Promise<void> {
    const all = [...this.#servers.values()];
    this.#servers.clear();
    await Promise.all(all.map((s) => (s.listening ? once(s.close(), 'close').catch(() => {}) : Promise.resolve())));
  }
}
