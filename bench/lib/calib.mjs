// Machine-speed probe: single-core sha256 throughput in short samples.
// On this shared VM the effective CPU speed was seen to swing ~2x at a
// sub-second scale even when idle, which is the main noise source of every
// timed workload. The probe makes that visible (start/end of each run, and
// `bash bench/run.sh calibrate`). It is a diagnostic, not used to correct results.
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sleep, percentile, round } from './util.mjs';

export async function calibrate(seconds = 3, sampleMs = 100, gapMs = 50) {
  const buf = Buffer.alloc(1 << 20, 7);
  const samples = [];
  const tEnd = performance.now() + seconds * 1000;
  while (performance.now() < tEnd) {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < sampleMs) {
      crypto.createHash('sha256').update(buf).digest();
      n++;
    }
    samples.push(round(n / ((performance.now() - t0) / 1000), 0));
    await sleep(gapMs);
  }
  const s = [...samples].sort((a, b) => a - b);
  return {
    unit: 'sha256 MB/s (1 core)',
    n: s.length,
    min: s[0],
    p10: percentile(s, 10),
    median: percentile(s, 50),
    p90: percentile(s, 90),
    max: s[s.length - 1],
    spread: round(s[s.length - 1] / s[0], 2),
    samples,
  };
}
