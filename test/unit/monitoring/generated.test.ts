/**
 * The committed monitoring files are exactly what monitoring/generate.mjs writes from
 * monitoring/config.mjs, and the config's fingerprint bands are the TypeScript table's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { FINGERPRINTS, FINGERPRINT_BUCKETS_SECONDS } from '../../../src/telemetry/fingerprints.js';
import {
  config,
  DASHBOARD_DIR,
  differingFiles,
  GRAFANA_DASHBOARD_PATH,
  renderAll,
  renderDashboards,
  renderRules,
  RULES_FILE,
} from '../../../monitoring/generate.mjs';
import { read, ROOT } from './helpers.js';

describe('generated files', () => {
  it('renderRules(config()) equals prometheus/rules/sightline.rules.yml', () => {
    expect(read(RULES_FILE)).toBe(renderRules(config()));
  });

  it('renderDashboards(config()) equals grafana/dashboards/*.json', () => {
    const rendered = renderDashboards(config());
    expect(Object.keys(rendered).sort()).toEqual([
      'sightline-disconnect-forensics.json',
      'sightline-overview.json',
      'sightline-route-detail.json',
    ]);
    for (const [name, text] of Object.entries(rendered)) expect(read(`${DASHBOARD_DIR}/${name}`), name).toBe(text);
  });

  it('every generated file (provisioning included) is up to date', () => {
    expect(differingFiles(renderAll(config()))).toEqual([]);
  });

  it('generate.mjs --check exits 0 here and 1, naming the files, where they are missing', () => {
    const ok = spawnSync(process.execPath, ['monitoring/generate.mjs', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    const empty = mkdtempSync(join(tmpdir(), 'sightline-gen-'));
    try {
      const bad = spawnSync(process.execPath, ['monitoring/generate.mjs', '--check', '--out', empty], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain(RULES_FILE);
      expect(bad.stderr).toContain(`${DASHBOARD_DIR}/sightline-overview.json`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('the compressed variant renders without touching the committed files', () => {
    const files = renderAll(config({ scale: 'test' }));
    expect(files[RULES_FILE]).toContain('for: 30s');
    expect(files[RULES_FILE]).toContain('interval: 5s');
    expect(files[RULES_FILE]).toContain('increase1m');
    expect(read(RULES_FILE)).not.toContain('increase1m');
  });
});

describe('fingerprint bands', () => {
  const bands = config().bands;
  it('one band per fingerprint value of src/telemetry/fingerprints.ts', () => {
    expect(bands.map((b) => b.seconds)).toEqual([...new Set(FINGERPRINTS.map((f) => f.seconds))].sort((a, b) => a - b));
  });

  it('each band is the histogram bucket that brackets its value', () => {
    for (const b of bands) {
      const tol = Math.max(
        0,
        ...FINGERPRINTS.filter((f) => f.seconds === b.seconds).map((f) => f.toleranceSeconds ?? 0),
      );
      const i = FINGERPRINT_BUCKETS_SECONDS.indexOf(b.lo);
      expect(i, `${b.name}: lo ${b.lo} is an edge`).toBeGreaterThanOrEqual(0);
      expect(FINGERPRINT_BUCKETS_SECONDS[i + 1], `${b.name}: hi is the next edge`).toBe(b.hi);
      expect(b.lo).toBeLessThan(b.seconds - tol);
      expect(b.hi).toBeGreaterThan(b.seconds + tol);
      expect(b.name).toBe(`${b.seconds}s`);
    }
  });
});

describe('grafana provisioning', () => {
  it('datasources: Prometheus (exemplars → Tempo), Tempo, Loki on the compose service names', () => {
    const f = YAML.parse(read('grafana/provisioning/datasources/datasources.yml')) as {
      datasources: Array<{ name: string; uid: string; type: string; url: string; jsonData?: Record<string, unknown> }>;
    };
    const by = Object.fromEntries(f.datasources.map((d) => [d.uid, d]));
    expect(by.prometheus).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    expect(by.prometheus!.jsonData!.exemplarTraceIdDestinations).toEqual([
      { name: 'trace_id', datasourceUid: 'tempo' },
    ]);
    expect(by.tempo).toMatchObject({ type: 'tempo', url: 'http://tempo:3200' });
    expect(by.loki).toMatchObject({ type: 'loki', url: 'http://loki:3100' });
  });

  it('the dashboards provider reads the directory the dashboards are mounted at', () => {
    const f = YAML.parse(read('grafana/provisioning/dashboards/sightline.yml')) as {
      providers: Array<{ type: string; options: { path: string } }>;
    };
    expect(f.providers).toHaveLength(1);
    expect(f.providers[0]).toMatchObject({ type: 'file', options: { path: GRAFANA_DASHBOARD_PATH } });
  });
});
