/**
 * The diagnosis scenario suite (issue 14 point 6), through the real CLI (needs `npm run build`):
 * known culprits on loopback with short periods (test/helpers/scenario-defs.ts), each on its own
 * route of a `sightline start` child process, judged from `sightline diagnose --json` and the
 * admin API's /api/patterns. Each scenario asserts the finding's kind, its period within 10 %,
 * who closed, the family of the first culprit, detection within 3 periods of the culprit's first
 * act, and no false finding (on the route, its healthy neighbours, and where there is no culprit).
 *
 * The scenario table of the run (expected → said → periods to detection) is written to
 * test-output/diagnose-scenarios.md and printed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allScenarios } from '../helpers/scenario-defs.js';
import { table, type Outcome } from '../helpers/scenario-judge.js';
import { runScenarios } from '../helpers/scenario-run.js';

const SCENARIOS = allScenarios();
const OUT = 'test-output/diagnose-scenarios.md';
let outcomes: Outcome[] = [];
let ranMs = 0;

describe('diagnosis scenarios through the real CLI', () => {
  beforeAll(async () => {
    const t = Date.now();
    outcomes = await runScenarios(SCENARIOS);
    ranMs = Date.now() - t;
  }, 150_000);

  afterAll(async () => {
    if (outcomes.length === 0) return;
    const header = `# Diagnosis scenarios, ${new Date().toISOString()} (Node ${process.versions.node}, ${(ranMs / 1000).toFixed(0)} s)`;
    const text = table(outcomes, header);
    await mkdir('test-output', { recursive: true });
    await writeFile(OUT, text);
    process.stdout.write(`\n${text}\n`);
  });

  // SCENARIOS=name,name (while working on the detector) runs only those.
  const only = process.env.SCENARIOS?.split(',');
  for (const sc of SCENARIOS) {
    const left = only !== undefined && !only.includes(sc.name);
    // A skipped scenario says why in its title: the SCENARIOS filter left it out.
    const title = `${sc.name}: ${sc.what}${left ? ` (skipped: SCENARIOS=${only!.join(',')} leaves it out)` : ''}`;
    it.skipIf(left)(title, () => {
      const o = outcomes.find((x) => x.name === sc.name);
      expect(o, 'the scenario ran').toBeDefined();
      const e = sc.expected;
      expect(o!.falseFindings, 'no false finding').toEqual([]);
      expect(o!.factsProblem).toBeNull();
      if (e.kind === 'none') {
        expect(o!.said, 'diagnose names no culprit').toBeNull();
        expect(o!.saidCount).toBe(0);
        return;
      }
      expect(o!.said, 'diagnose has a finding').not.toBeNull();
      const said = o!.said!;
      expect({ kind: said.kind, initiator: said.initiator, family: said.family }).toEqual({
        kind: e.kind,
        initiator: e.initiator,
        family: e.family,
      });
      if (said.periodMs !== null)
        expect(
          Math.abs(said.periodMs - e.periodMs),
          `period ${said.periodMs} ms vs ${e.periodMs} ms`,
        ).toBeLessThanOrEqual(0.1 * e.periodMs);
      else expect(e.kind).toBe('abnormal-reason');
      expect(o!.diagnoseExit).toBe(1);
      expect(o!.periodsToDetection, 'detected, measured from the culprit’s first act').not.toBeNull();
      expect(o!.periodsToDetection!).toBeLessThanOrEqual(3);
    });
  }
});
