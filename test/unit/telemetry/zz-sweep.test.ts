import { it } from 'vitest';
import { PatternDetector, type CloseSample } from '../../../src/telemetry/patterns.js';
function mulberry32(seed: number): () => number { let a = seed >>> 0; return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
const T0 = 1_700_000_000_000;
function run(closes: CloseSample[]) { const det = new PatternDetector(); const out = []; for (const c of closes.sort((a, b) => a.at - b.at)) out.push(...det.observe(c)); return out; }
function gauss(rng: () => number) { return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()); }
it('sweep', () => {
  const scen: Record<string, (rng: () => number) => CloseSample[]> = {
    expHour: (rng) => gen(rng, 2000, 3_600_000, () => -60_000 * Math.log(1 - rng())),
    expBusy: (rng) => gen(rng, 2000, 300_000, () => -60_000 * Math.log(1 - rng())),
    unifBusy: (rng) => gen(rng, 2000, 300_000, () => 1000 + rng() * 599_000),
    lognorm: (rng) => gen(rng, 2000, 3_600_000, () => 20_000 * Math.exp(1.0 * gauss(rng))),
    shortish: (rng) => gen(rng, 2000, 600_000, () => 3_000 + 1_000 * gauss(rng)),
    cron30: (rng) => { const out: CloseSample[] = []; for (let m = 0; m < 120; m++) for (let i = 0; i < 15; i++) { const start = T0 + m * 30_000 + rng() * 500; const d = -20_000 * Math.log(1 - rng()) + 1000; out.push(s(start + d, d, rng() * d)); } return out; },
    cronUnif: (rng) => { const out: CloseSample[] = []; for (let m = 0; m < 60; m++) for (let i = 0; i < 30; i++) { const start = T0 + m * 120_000 + rng() * 3000; const d = 1000 + rng() * 240_000; out.push(s(start + d, d, rng() * d)); } return out; },
    storm: (rng) => { const out: CloseSample[] = []; for (let i = 0; i < 2000; i++) { const start = T0 + (i < 500 ? rng() * 2000 : rng() * 3_600_000); const d = 1000 - 90_000 * Math.log(1 - rng()); out.push(s(start + d, d, rng() * d)); } return out; },
    pareto: (rng) => gen(rng, 2000, 3_600_000, () => 1000 * Math.pow(1 - rng(), -1 / 1.2)),
    minuteCron: (rng) => { const out: CloseSample[] = []; for (let m = 0; m < 60; m++) for (let i = 0; i < 30; i++) { const start = T0 + m * 60_000 + rng() * 2000; const d = -30_000 * Math.log(1 - rng()) + 1000; out.push(s(start + d, d, rng() * d)); } return out; },
  };
  for (const [name, g] of Object.entries(scen)) {
    let fired = 0; const ex: string[] = [];
    for (let seed = 100; seed < 700; seed++) { const o = run(g(mulberry32(seed))); if (o.length) { fired++; if (ex.length < 3) ex.push(o[0]!.summary); } }
    console.log(name, 'fired', fired, '/600', ex);
  }
  const pos: Record<string, (rng: () => number) => CloseSample[]> = {
    age30: (rng) => Array.from({ length: 40 }, () => { const st = T0 + rng() * 1_200_000; const d = 30_000 + (rng() * 2 - 1) * 200; return s(st + d, d, d - rng() * 300); }),
    age30few: (rng) => Array.from({ length: 12 }, () => { const st = T0 + rng() * 1_200_000; const d = 30_000 + (rng() * 2 - 1) * 200; return s(st + d, d, d - rng() * 300); }),
    aligned: (rng) => { const out: CloseSample[] = []; for (let k = 0; k < 4; k++) for (let i = 0; i < 5; i++) { const d = 5000 + rng() * 595_000; out.push(s(T0 + k * 120_000 + rng() * 300, d, rng() * 3000)); } return out; },
    aligned3: (rng) => { const out: CloseSample[] = gen(rng, 30, 900_000, () => 1000 + rng() * 600_000); for (let k = 0; k < 4; k++) for (let i = 0; i < 3; i++) { const d = 5000 + rng() * 595_000; out.push(s(T0 + 100_000 + k * 60_000 + rng() * 300, d, rng() * 3000)); } return out; },
    alignedNoisy: (rng) => { const out = gen(rng, 200, 900_000, () => -60_000 * Math.log(1 - rng())); for (let k = 0; k < 6; k++) for (let i = 0; i < 5; i++) { const d = 5000 + rng() * 595_000; out.push(s(T0 + 100_000 + k * 120_000 + rng() * 300, d, rng() * 3000)); } return out; },
  };
  for (const [name, g] of Object.entries(pos)) {
    let ok = 0; const bad: string[] = [];
    for (let seed = 100; seed < 700; seed++) { const o = run(g(mulberry32(seed))); if (o.length === 1) ok++; else if (bad.length < 3) bad.push(String(o.length) + ' ' + o.map(p => p.summary.slice(0, 120)).join(' | ')); }
    console.log(name, 'exactly-one', ok, '/600', bad);
  }
});
function s(at: number, d: number, idle: number): CloseSample { return { route: 'r', at, durationMs: d, idleAtCloseMs: idle, initiator: 'backend', local: false, reason: 'backend_closed' }; }
function gen(rng: () => number, n: number, span: number, life: () => number) { return Array.from({ length: n }, () => { const d = life(); return s(T0 + rng() * span + d, d, rng() * d); }); }
