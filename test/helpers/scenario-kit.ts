/**
 * What the diagnosis scenarios (scenario-defs.ts, scenario-own.ts) are made of: the scenario shape,
 * routes, seeded random ranges, and the two kinds of client traffic they share.
 */
import { freePort, HOST } from './net.js';
import { mulberry32 } from './prng.js';
import type { Peers } from './scenario-peers.js';
import type { Expected } from './scenario-judge.js';

export type GroupName = 'paths' | 'own' | 'lifecycle' | 'drain' | 'reload';

export interface Scenario {
  /** Also the route name. */
  readonly name: string;
  readonly what: string;
  readonly group: GroupName;
  readonly expected: Expected;
  /** Healthy routes beside it that must have no finding. */
  readonly quiet?: readonly string[];
  /** Backends and the routes (with their ports): before the proxy starts. */
  prepare(peers: Peers, mark: () => void): Promise<Array<Record<string, unknown>>>;
  /** The traffic, once the proxy listens. */
  drive(peers: Peers, mark: () => void): void;
  /** Facts to check at the end (null: nothing beyond the finding) and what is wrong with them. */
  facts?(): Record<string, number>;
  factsProblem?(f: Record<string, number>): string | null;
}

export const route = (
  name: string,
  port: number,
  backend: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({
  name,
  match: { ports: port },
  action: { type: 'forward', target: { host: HOST, port: backend }, ...extra },
});
export const between = (rand: () => number, lo: number, hi: number) => (): number => lo + rand() * (hi - lo);

/** Silent clients that reconnect after a random delay, on a route whose backend `cut`s them. */
export function silentLoop(
  name: string,
  what: string,
  group: GroupName,
  expected: Expected,
  backend: (p: Peers, mark: () => void) => Promise<number>,
  seed: number,
  markOnClose = false,
): Scenario {
  let port = 0;
  return {
    name,
    what,
    group,
    expected,
    async prepare(peers, mark) {
      port = await freePort();
      return [route(name, port, await backend(peers, mark))];
    },
    drive(peers, mark) {
      // Sightline's own cuts are seen by the clients first; a backend's or a forwarder's by themselves.
      peers.tcpClients(
        port,
        10,
        3_000,
        between(mulberry32(seed), 100, 1_500),
        undefined,
        markOnClose ? mark : undefined,
      );
    },
  };
}

/** Clients that end their connection after a random lifetime (`resetShare` of them with RST). */
export function randomLifetimes(
  peers: Peers,
  port: number,
  n: number,
  rand: () => number,
  lo: number,
  hi: number,
  resetShare = 0,
  onClose?: () => void,
): void {
  const life = between(rand, lo, hi);
  peers.tcpClients(
    port,
    n,
    2_000,
    between(rand, 0, 500),
    (s) => {
      const reset = rand() < resetShare;
      const t = setTimeout(() => (reset ? s.resetAndDestroy() : s.end()), life());
      s.on('close', () => clearTimeout(t));
    },
    onClose,
  );
}
