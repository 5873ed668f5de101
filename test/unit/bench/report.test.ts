/**
 * The benchmark report (bench/lib/report.mjs): Sightline's ratio to every other proxy of the same
 * run, per rep (both ran in the same rep window) then the median, and the per-proxy-CPU-second
 * ratio, rendered into the results markdown.
 */
import { describe, expect, it } from 'vitest';

type Row = { proxy: string; label: string; mode: string; runs: Array<Record<string, number>>; [k: string]: unknown };
type Report = {
  sightlineRatios: (res: unknown) => Array<{ workload: string; vs: string; ratio: number | null; eff_ratio?: number }>;
  renderMarkdown: (res: unknown, o?: { commands?: boolean }) => string;
};
// @ts-expect-error plain ESM module without type declarations
const report = (await import('../../../bench/lib/report.mjs')) as Report;

const row = (proxy: string, rps: number[], perCpu: number): Row => ({
  proxy,
  label: proxy === 'direct' ? 'direct' : `${proxy}/http`,
  mode: proxy === 'direct' ? 'direct' : 'http',
  rps: [...rps].sort((a, b) => a - b)[1],
  req_per_cpu_s: perCpu,
  runs: rps.map((v, rep) => ({ rep, rps: v })),
});

const results = {
  settings: { reps: 3, sightline: { name: 'sightline' } },
  workloads: {
    http_rps: {
      rows: [
        row('direct', [100, 100, 100], 0),
        row('node', [10, 20, 10], 10),
        row('haproxy', [50, 40, 60], 60),
        row('sightline', [30, 30, 40], 30),
      ],
      instances: [],
    },
  },
};

describe('bench report', () => {
  it('ratios are medians of per-rep ratios; per-CPU ratios divide the medians', () => {
    const r = report.sightlineRatios(results);
    const by = Object.fromEntries(r.map((x) => [x.vs, x]));
    // per rep vs node: 3, 1.5, 4 -> median 3 (a ratio of medians would say 30/10 = 3 too, but
    // vs haproxy: 0.6, 0.75, 0.667 -> 0.667, where 30/50 = 0.6).
    expect(by['node/http']!.ratio).toBeCloseTo(3, 6);
    expect(by['haproxy/http']!.ratio).toBeCloseTo(2 / 3, 6);
    expect(by['haproxy/http']!.eff_ratio).toBeCloseTo(0.5, 6);
    expect(by['direct']!.ratio).toBeCloseTo(0.3, 6);
    expect(r.some((x) => x.vs === 'sightline/http')).toBe(false);
  });

  it('the markdown carries the table', () => {
    const md = report.renderMarkdown(results, { commands: false });
    expect(md).toContain('## sightline relative to each proxy');
    expect(md).toMatch(/\| http_rps +\| haproxy\/http +\| rps +\| +0\.67x \| req_per_cpu_s +\| 0\.50x \|/);
  });
});
