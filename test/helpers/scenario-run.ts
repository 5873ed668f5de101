/**
 * Runs the diagnosis scenarios (scenario-defs.ts) group by group, the groups at the same time: one
 * `sightline start` per group with every route of its scenarios, the traffic, the group's signals
 * (drain, reloads), the detector polled until each scenario has shown its finding for one more
 * period (or had 5 periods from its culprit's first act), then one `sightline diagnose --json`
 * while the traffic still runs, and the judgement of each scenario (scenario-judge.ts).
 */
import { SCENARIO_TOKEN, startCli, type RunningCli } from './scenario-cli.js';
import type { GroupName, Scenario } from './scenario-kit.js';
import { DRAIN_AT_MS, DRAIN_SPREAD_MS, RELOADS, RELOAD_EVERY_MS } from './scenario-own.js';
import { judge, matches, type Outcome } from './scenario-judge.js';
import { Peers } from './scenario-peers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Group {
  readonly options: Record<string, unknown>;
  /** Traffic runs at least this long before the verdict is read. */
  readonly observeMs: number;
  /** Signals while the traffic runs; facts it records go to every scenario of the group. */
  during?(cli: RunningCli, routes: Array<Record<string, unknown>>, facts: Record<string, number>): Promise<void>;
  /** After the verdict was read. */
  after?(cli: RunningCli, facts: Record<string, number>): Promise<void>;
}

/** Sightline's sweep every 250 ms: its own kills land at most that late. */
const FAST_SWEEP = { inactivityCheckInterval: 250 };

const GROUPS: Readonly<Record<GroupName, Group>> = {
  paths: { options: {}, observeMs: 18_000 },
  own: {
    options: {
      ...FAST_SWEEP,
      inactivityTimeout: 3_000,
      keepAliveTreatment: 'standard',
      lifecycle: { activitySampleInterval: 250 },
    },
    observeMs: 0,
  },
  lifecycle: {
    options: {
      ...FAST_SWEEP,
      lifecycle: { activitySampleInterval: 250, stuckThreshold: 2_000, halfZombieGrace: 2_000 },
    },
    observeMs: 0,
  },
  drain: {
    options: { gracefulShutdownTimeout: 8_000, drain: { spreadMs: DRAIN_SPREAD_MS } },
    // The verdict is read early in the drain (the admin API answers until its end).
    observeMs: DRAIN_AT_MS + 1_000,
    async during(cli) {
      await sleep(DRAIN_AT_MS);
      cli.signal('SIGTERM');
    },
    async after(cli, facts) {
      const code = await Promise.race([cli.exited, sleep(15_000).then(() => 'timeout' as const)]);
      facts.drainExit = code === 'timeout' ? -1 : (code ?? -2);
    },
  },
  reload: {
    options: {},
    observeMs: (RELOADS + 1) * RELOAD_EVERY_MS,
    async during(cli, routes, facts) {
      for (let i = 1; i <= RELOADS; i++) {
        await sleep(RELOAD_EVERY_MS);
        // A real change each time (the idle timeout of new connections), so each reload applies.
        await cli.rewrite({ routes, inactivityTimeout: 14_400_000 - i * 1_000 });
        cli.signal('SIGHUP');
      }
      await sleep(500);
      facts.generation = await cli.metric('sightline_config_generation');
    },
  },
};

/** SCENARIO_DEBUG=1: each route's recent close records and the findings seen, to test-output/. */
async function dumpCloses(cli: RunningCli, scenarios: readonly Scenario[]): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir('test-output/diagnose-scenarios-debug', { recursive: true });
  for (const s of scenarios) {
    const url = new URL(`api/recent-closes?route=${encodeURIComponent(s.name)}&limit=500`, cli.admin);
    const body = await (await fetch(url, { headers: { authorization: `Bearer ${SCENARIO_TOKEN}` } })).text();
    const seen = cli.seen.filter((x) => x.route === s.name);
    await writeFile(
      `test-output/diagnose-scenarios-debug/${s.name}.json`,
      JSON.stringify(
        { seen: seen.filter((x, i) => i === 0 || x.kind !== seen[i - 1]!.kind), closes: JSON.parse(body) },
        null,
        1,
      ),
    );
  }
}

async function runGroup(name: GroupName, scenarios: readonly Scenario[]): Promise<Outcome[]> {
  const g = GROUPS[name];
  let peers = new Peers();
  const marks = new Map<string, number>();
  const markOf = (s: Scenario) => (): void => {
    if (!marks.has(s.name)) marks.set(s.name, Date.now());
  };
  const facts: Record<string, number> = {};
  let cli: RunningCli | null = null;
  try {
    let routes: Array<Record<string, unknown>> = [];
    // A route port is found free, then bound by the CLI: on a busy machine something else can
    // take it in between (EADDRINUSE). Then the group starts over on new ports.
    for (let attempt = 1; cli === null; attempt++) {
      routes = (await Promise.all(scenarios.map((s) => s.prepare(peers, markOf(s))))).flat();
      try {
        cli = await startCli({ ...g.options, routes });
      } catch (err) {
        if (attempt >= 3 || !String(err).includes('EADDRINUSE')) throw err;
        await peers.stop();
        peers = new Peers();
      }
    }
    const running = cli;
    const tStart = Date.now();
    for (const s of scenarios) s.drive(peers, markOf(s));
    const during = g.during?.(running, routes, facts) ?? Promise.resolve();
    const done = (s: Scenario): boolean => {
      const now = Date.now();
      if (now - tStart < g.observeMs) return false;
      if (s.expected.kind === 'none') return true;
      const det = running.seen.find((x) => x.route === s.name && matches(s.expected, x.kind, x.periodMs, x.initiator));
      // Detected: watch it stand for one more period (a finding that flips counts as false).
      if (det !== undefined) return now >= det.at + s.expected.periodMs;
      const t0 = marks.get(s.name);
      if (t0 !== undefined) return now >= t0 + 5 * s.expected.periodMs;
      return now - tStart >= 60_000;
    };
    while (!scenarios.every(done)) await sleep(250);
    const diag = await running.diagnose();
    if (process.env.SCENARIO_DEBUG) await dumpCloses(running, scenarios);
    await during;
    await g.after?.(running, facts);
    return scenarios.map((s) => {
      const f = { ...facts, ...(s.facts?.() ?? {}) };
      return judge(s, running.seen, diag, marks.get(s.name) ?? null, f, s.factsProblem?.(f) ?? null);
    });
  } finally {
    await peers.stop();
    await cli?.stop();
  }
}

/** Every scenario, the groups concurrently; outcomes in the scenarios' order. */
export async function runScenarios(all: readonly Scenario[]): Promise<Outcome[]> {
  // SCENARIOS=name,name runs only those (while working on the detector).
  const only = process.env.SCENARIOS?.split(',');
  const scenarios = only === undefined ? all : all.filter((s) => only.includes(s.name));
  const names = [...new Set(scenarios.map((s) => s.group))];
  const results = (
    await Promise.all(
      names.map((g) =>
        runGroup(
          g,
          scenarios.filter((s) => s.group === g),
        ),
      ),
    )
  ).flat();
  return scenarios.map((s) => results.find((o) => o.name === s.name)!);
}
