/**
 * The scenarios of the diagnosis suite (issue 14 point 6; test/e2e/diagnose-scenarios.test.ts):
 * each a known culprit (or none) on its own route, with what `diagnose` must say about it. They run
 * in groups, one `sightline start` per group: scenarios that need Sightline's own global timers
 * short (inactivity, stuck, half-zombie) or that signal the process (drain, reload) get their own.
 *
 * Periods: the path timers run at 4.5–6 s, where the fingerprint table knows no product default
 * (below 4 s it names a read deadline, from 9 s ingress reloads), so the first line of advice names
 * the side and the timer family; Sightline's own timers at 2–3 s. Wall-clock timers need ≥ 5 s
 * (the detector's floor). Random choices come from seeded generators (replayable).
 */
import { freePort } from './net.js';
import { mulberry32 } from './prng.js';
import { between, randomLifetimes, route, silentLoop, type Scenario } from './scenario-kit.js';
import { drain, halfZombie, ownIdle, reload, stuck } from './scenario-own.js';

export type { GroupName, Scenario } from './scenario-kit.js';

const backendIdle = (): Scenario =>
  silentLoop(
    'backend-idle',
    'the backend ends connections silent for 5 s',
    'paths',
    { kind: 'age-clustered', periodMs: 5_000, initiator: 'backend', family: 'backend-side' },
    (p, mark) => p.idleCutBackend(5_000, mark),
    11,
  );

function lbInFront(): Scenario {
  const name = 'lb-front';
  let lbPort = 0;
  return {
    name,
    what: 'a load balancer in front of Sightline cuts connections silent for 4.5 s',
    group: 'paths',
    expected: { kind: 'age-clustered', periodMs: 4_500, initiator: 'client', family: 'in-front' },
    async prepare(peers, mark) {
      const port = await freePort();
      lbPort = await peers.idleCutForwarder(port, 4_500, mark);
      return [route(name, port, await peers.politeBackend())];
    },
    drive(peers) {
      peers.tcpClients(lbPort, 10, 3_000, between(mulberry32(12), 100, 1_500));
    },
  };
}

function wallClock(name: string, what: string, delay: () => number): Scenario {
  let port = 0;
  let start = (): void => {};
  return {
    name,
    what,
    group: 'paths',
    expected: { kind: 'wall-clock-aligned', periodMs: 6_000, initiator: 'backend', family: 'shared-timer' },
    async prepare(peers, mark) {
      port = await freePort();
      const be = await peers.wallClockBackend(6_000, mark);
      start = be.start;
      return [route(name, port, be.port)];
    },
    drive(peers) {
      start();
      peers.tcpClients(port, 10, 5_000, delay);
    },
  };
}

function heartbeatSilent(): Scenario {
  const name = 'hb-silent';
  let port = 0;
  return {
    name,
    what: 'WebSocket clients that never answer pings (pingInterval 1.5 s + pingTimeout 0.5 s)',
    group: 'paths',
    expected: {
      kind: 'age-clustered',
      periodMs: 2_000,
      initiator: 'proxy',
      family: 'sightline:websocket.pingInterval',
    },
    async prepare(peers) {
      port = await freePort();
      return [
        route(name, port, await peers.wsBackend(), {
          protocol: 'http',
          websocket: { pingInterval: 1_500, pingTimeout: 500 },
        }),
      ];
    },
    drive(peers, mark) {
      peers.wsClients(port, 10, 3_000, between(mulberry32(21), 100, 1_500), () => 0, mark);
    },
  };
}

function heartbeatRandom(): Scenario {
  const name = 'hb-random';
  let port = 0;
  const rand = mulberry32(22);
  return {
    name,
    what: 'WebSocket clients that stop answering pings at random moments (ping 1 s, timeout 0.5 s)',
    group: 'paths',
    expected: {
      kind: 'abnormal-reason',
      periodMs: 1_500,
      initiator: 'proxy',
      family: 'sightline:websocket.pingInterval',
    },
    async prepare(peers) {
      port = await freePort();
      return [
        route(name, port, await peers.wsBackend(), {
          protocol: 'http',
          websocket: { pingInterval: 1_000, pingTimeout: 500 },
        }),
      ];
    },
    drive(peers, mark) {
      peers.wsClients(port, 14, 1_000, between(rand, 100, 1_000), between(rand, 300, 3_500), mark);
    },
  };
}

function randomLife(): Scenario {
  const name = 'random-life';
  let port = 0;
  return {
    name,
    what: 'clients end their connections after random lifetimes of 1–9 s',
    group: 'paths',
    expected: { kind: 'none', periodMs: 5_000 },
    async prepare(peers) {
      port = await freePort();
      return [route(name, port, await peers.echoBackend())];
    },
    drive(peers) {
      randomLifetimes(peers, port, 16, mulberry32(31), 1_000, 9_000);
    },
  };
}

function badRoute(): Scenario {
  const name = 'bad-route';
  const ports = { bad: 0, a: 0, b: 0 };
  const rand = mulberry32(41);
  return {
    name,
    what: 'a backend that resets connections at random ages (1–4 s), beside two healthy routes (5 % client resets)',
    group: 'paths',
    expected: { kind: 'abnormal-reason', periodMs: 2_500, initiator: 'backend', family: 'reason:backend_reset' },
    quiet: ['healthy-a', 'healthy-b'],
    async prepare(peers, mark) {
      [ports.bad, ports.a, ports.b] = [await freePort(), await freePort(), await freePort()];
      return [
        route(name, ports.bad, await peers.resettingBackend(between(rand, 1_000, 4_000), mark)),
        route('healthy-a', ports.a, await peers.echoBackend()),
        route('healthy-b', ports.b, await peers.echoBackend()),
      ];
    },
    drive(peers) {
      peers.tcpClients(ports.bad, 10, 2_000, between(rand, 50, 500));
      randomLifetimes(peers, ports.a, 8, rand, 1_000, 6_000, 0.05);
      randomLifetimes(peers, ports.b, 8, rand, 1_000, 6_000, 0.05);
    },
  };
}

export function allScenarios(): Scenario[] {
  const rand = mulberry32(99);
  return [
    backendIdle(),
    lbInFront(),
    wallClock(
      'wall-prompt',
      'the backend closes every connection at each multiple of 6 s; clients reconnect at once',
      between(rand, 5, 35),
    ),
    wallClock('wall-spread', 'the same timer; clients reconnect over 0–3 s', between(rand, 0, 3_000)),
    heartbeatSilent(),
    heartbeatRandom(),
    randomLife(),
    badRoute(),
    ownIdle(),
    stuck(),
    halfZombie(),
    drain(),
    reload(),
  ];
}
