/**
 * Diagnosis scenarios where Sightline itself acts (test/e2e/diagnose-scenarios.test.ts): its own
 * timers (inactivity, stuck, half-zombie: their groups set them short) and its signals (a drain,
 * reloads: no culprit).
 */
import { freePort } from './net.js';
import { mulberry32 } from './prng.js';
import { between, randomLifetimes, route, silentLoop, type Scenario } from './scenario-kit.js';

export const ownIdle = (): Scenario =>
  silentLoop(
    'own-idle',
    "Sightline's own inactivityTimeout: 3000 cuts silent clients",
    'own',
    { kind: 'age-clustered', periodMs: 3_000, initiator: 'proxy', family: 'sightline:inactivityTimeout' },
    (p) => p.politeBackend(),
    51,
    true,
  );

export function stuck(): Scenario {
  const name = 'stuck';
  let port = 0;
  return {
    name,
    what: 'clients speak, the backend never answers (lifecycle.stuckThreshold: 2000)',
    group: 'lifecycle',
    expected: {
      kind: 'age-clustered',
      periodMs: 2_000,
      initiator: 'proxy',
      family: 'sightline:lifecycle.stuckThreshold',
    },
    async prepare(peers) {
      port = await freePort();
      return [route(name, port, await peers.silentBackend())];
    },
    drive(peers, mark) {
      peers.tcpClients(port, 10, 3_000, between(mulberry32(61), 100, 1_500), (s) => s.write('hello?\n'), mark);
    },
  };
}

export function halfZombie(): Scenario {
  const name = 'half-zombie';
  let port = 0;
  return {
    name,
    what: 'clients half-close at once, the backend never closes its half (lifecycle.halfZombieGrace: 2000)',
    group: 'lifecycle',
    expected: {
      kind: 'age-clustered',
      periodMs: 2_000,
      initiator: 'proxy',
      family: 'sightline:lifecycle.halfZombieGrace',
    },
    async prepare(peers) {
      port = await freePort();
      return [route(name, port, await peers.silentBackend())];
    },
    drive(peers, mark) {
      peers.tcpClients(port, 10, 3_000, between(mulberry32(71), 100, 1_500), (s) => s.end(), mark);
    },
  };
}

/** SIGTERM this long after the traffic starts (the drain group's hook). */
export const DRAIN_AT_MS = 4_000;
/** How long a drained connection may take to be told (drain.spreadMs). */
export const DRAIN_SPREAD_MS = 4_000;

export function drain(): Scenario {
  const name = 'drain';
  let port = 0;
  const state = { longClosed: 0 };
  return {
    name,
    what: `SIGTERM drains 12 long-lived and 6 short-lived connections over ${DRAIN_SPREAD_MS / 1000} s`,
    group: 'drain',
    expected: { kind: 'none', periodMs: DRAIN_SPREAD_MS },
    async prepare(peers) {
      port = await freePort();
      return [route(name, port, await peers.politeBackend())];
    },
    drive(peers) {
      // Long-lived: never reopened within the run (the proxy stops listening).
      peers.tcpClients(
        port,
        12,
        2_000,
        () => 60_000,
        undefined,
        () => state.longClosed++,
      );
      randomLifetimes(peers, port, 6, mulberry32(81), 1_000, 3_000);
    },
    facts: () => ({ longLivedClosed: state.longClosed }),
    factsProblem: (f) =>
      f.longLivedClosed !== 12
        ? `the drain closed ${f.longLivedClosed} of 12 long-lived connections`
        : f.drainExit !== 0
          ? `the drained process exited with ${f.drainExit}`
          : null,
  };
}

export const RELOADS = 5;
export const RELOAD_EVERY_MS = 2_500;

export function reload(): Scenario {
  const name = 'reload';
  let port = 0;
  const state = { longClosed: 0 };
  return {
    name,
    what: `SIGHUP reloads the configuration ${RELOADS} times, every ${RELOAD_EVERY_MS / 1000} s, under traffic`,
    group: 'reload',
    expected: { kind: 'none', periodMs: RELOAD_EVERY_MS },
    async prepare(peers) {
      port = await freePort();
      return [route(name, port, await peers.echoBackend())];
    },
    drive(peers) {
      peers.tcpClients(
        port,
        8,
        2_000,
        () => 60_000,
        undefined,
        () => state.longClosed++,
      );
      randomLifetimes(peers, port, 8, mulberry32(91), 1_000, 6_000);
    },
    facts: () => ({ longLivedClosed: state.longClosed }),
    factsProblem: (f) =>
      f.longLivedClosed !== 0
        ? `a reload closed ${f.longLivedClosed} live connections`
        : f.generation !== RELOADS + 1
          ? `configuration generation ${f.generation} after ${RELOADS} reloads`
          : null,
  };
}
