/**
 * The Grafana dashboards (grafana/dashboards, generated from monitoring/config.mjs): schema and
 * datasource conventions, every query valid PromQL (promtool) reading only catalogued metrics,
 * and panelExpressions() for the live e2e test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { METRICS } from '../../../src/telemetry/metric-catalogue.js';
import { config, dashboards, metricNames, panelExpressions, type Dashboard } from '../../../monitoring/generate.mjs';
import { committedRules, filesIn, promtool, PROMTOOL, read } from './helpers.js';
import { skipped, titled } from '../../helpers/needs.js';

const files = filesIn('grafana/dashboards', '.json');
const models: Record<string, Dashboard> = Object.fromEntries(
  files.map((f) => [f.split('/').pop()!, JSON.parse(read(f)) as Dashboard]),
);
const DS = { type: 'prometheus', uid: '${datasource}' };

type Panel = Record<string, unknown> & {
  type: string;
  title: string;
  id: number;
  targets?: Array<Record<string, unknown>>;
  panels?: Panel[];
};
const panelsOf = (d: Dashboard): Panel[] => (d.panels as Panel[]).flatMap((p) => [p, ...(p.panels ?? [])]);

/** Every object in a JSON tree, with its path. */
function* walk(node: unknown, path = '$'): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(node)) for (const [i, v] of node.entries()) yield* walk(v, `${path}[${i}]`);
  else if (node !== null && typeof node === 'object') {
    yield [path, node as Record<string, unknown>];
    for (const [k, v] of Object.entries(node)) yield* walk(v, `${path}.${k}`);
  }
}

describe('dashboards', () => {
  it('are the three the stack provisions', () => {
    expect(Object.keys(models).sort()).toEqual([
      'sightline-disconnect-forensics.json',
      'sightline-overview.json',
      'sightline-route-detail.json',
    ]);
  });

  for (const [name, d] of Object.entries(models)) {
    describe(name, () => {
      it('schemaVersion ≥ 39, a datasource variable of type datasource (prometheus), uid from the file name', () => {
        expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
        const v = d.templating.list.find((x) => x.name === 'datasource');
        expect(v).toMatchObject({ type: 'datasource', query: 'prometheus' });
        expect(d.uid).toBe(name.replace(/\.json$/, ''));
        expect(JSON.stringify(d)).not.toMatch(/__inputs|DS_PROMETHEUS/);
      });

      it('every prometheus datasource is ${datasource}; no other uid is hard-coded', () => {
        for (const [path, o] of walk(d)) {
          if (typeof o.datasource === 'string') throw new Error(`${path}: a datasource given by name`);
          if (o.type === 'prometheus' && 'uid' in o) expect(o.uid, path).toBe('${datasource}');
          if ('datasourceUid' in o) throw new Error(`${path}: a hard-coded datasourceUid`);
        }
      });

      it('every query panel and target uses the datasource variable; targets have expr and unique refIds', () => {
        for (const p of panelsOf(d)) {
          if (p.type === 'row' || p.type === 'text') continue;
          expect(p.datasource, p.title).toEqual(DS);
          expect(p.targets?.length, p.title).toBeGreaterThan(0);
          const refIds = p.targets!.map((t) => t.refId);
          expect(new Set(refIds).size, `${p.title}: unique refIds`).toBe(refIds.length);
          for (const t of p.targets!) {
            expect(t.datasource, p.title).toEqual(DS);
            expect(typeof t.expr === 'string' && t.expr.length > 0, `${p.title}: expr`).toBe(true);
            expect(t.refId, p.title).toMatch(/^[A-Z]$/);
          }
        }
        const ids = panelsOf(d).map((p) => p.id);
        expect(new Set(ids).size).toBe(ids.length);
      });

      it('rates use $__rate_interval (or $__range), never a fixed window', () => {
        for (const p of panelsOf(d)) {
          for (const t of p.targets ?? []) {
            for (const m of String(t.expr).matchAll(/\[([^\]]*)\]/g))
              expect(['$__rate_interval', '$__range'], `${p.title}: ${t.expr}`).toContain(m[1]);
          }
        }
      });
    });
  }

  it('overview: active by route, accepts and rejects, closes by reason and by initiator, bytes', () => {
    const exprs = panelExpressions([models['sightline-overview.json']!]).map((e) => e.expr);
    for (const needle of [
      'sum by (route) (sightline_connections_active)',
      'sightline_connections_accepted_total',
      'sightline_connections_rejected_total',
      'sum by (reason) (rate(sightline_connections_closed_total',
      'sum by (initiator) (rate(sightline_connections_closed_total',
      'sightline_bytes_total',
    ]) {
      expect(
        exprs.some((e) => e.includes(needle)),
        needle,
      ).toBe(true);
    }
  });

  it('forensics: a lifetime heatmap per route, bands (bar gauge per band and a text panel), patterns table, exemplars on time series', () => {
    const d = models['sightline-disconnect-forensics.json']!;
    const panels = panelsOf(d);
    const heat = panels.find(
      (p) =>
        p.type === 'heatmap' && String(p.targets?.[0]?.expr).includes('sightline_connection_duration_seconds_bucket'),
    );
    expect(heat).toMatchObject({ repeat: 'route' });
    expect(heat!.targets![0]).toMatchObject({ format: 'heatmap', exemplar: true });
    expect(
      panels.some(
        (p) =>
          p.type === 'heatmap' &&
          String(p.targets?.[0]?.expr).includes('sightline_connection_idle_at_close_seconds_bucket'),
      ),
    ).toBe(true);
    const bands = panels.find((p) => p.type === 'bargauge')!;
    expect(bands.targets).toHaveLength(config().bands.length);
    expect(String(bands.targets![3]!.expr)).toContain('le=~"32(\\\\.0)?"');
    const text = panels.find((p) => p.type === 'text') as Panel & { options: { content: string } };
    for (const b of config().bands) expect(text.options.content).toContain(`| ${b.seconds} s | ${b.lo}–${b.hi} s |`);
    const table = panels.find((p) => p.type === 'table')!;
    expect(String(table.targets![0]!.expr)).toContain('sightline_disconnect_pattern_period_seconds');
    for (const needle of [
      'sightline_inactivity_kills_total',
      'sightline_zombie_detections_total',
      'sightline_heartbeat_timeouts_total',
      'sightline_connection_oldest_age_seconds',
      'reason',
    ]) {
      expect(
        panels.some((p) => p.targets?.some((t) => String(t.expr).includes(needle))),
        needle,
      ).toBe(true);
    }
    const series = panels.filter((p) => p.type === 'timeseries');
    expect(series.length).toBeGreaterThan(5);
    for (const p of series) for (const t of p.targets!) expect(t.exemplar, p.title).toBe(true);
  });

  it('route detail: a route query variable, every query filtered by it', () => {
    const d = models['sightline-route-detail.json']!;
    const v = d.templating.list.find((x) => x.name === 'route') as Record<string, unknown>;
    expect(v).toMatchObject({
      type: 'query',
      query: { query: 'label_values(sightline_connections_closed_total, route)' },
      datasource: DS,
    });
    for (const e of panelExpressions([d])) expect(e.expr, `${e.panel}`).toContain('route="$route"');
  });

  it('the files are what dashboards(config()) builds', () => {
    expect(models).toEqual(JSON.parse(JSON.stringify(dashboards(config()))));
  });
});

describe('panel expressions', () => {
  const all = panelExpressions(models);

  it('lists every target of every panel, with dashboard, panel, refId and the raw expr', () => {
    const targets = Object.values(models).flatMap((d) => panelsOf(d).flatMap((p) => p.targets ?? []));
    expect(all).toHaveLength(targets.length);
    expect(all.length).toBeGreaterThan(60);
    for (const e of all) {
      expect(e.dashboard).toMatch(/^sightline-/);
      expect(e.panel).toBeTruthy();
      expect(e.refId).toMatch(/^[A-Z]$/);
    }
    expect(all.some((e) => e.expr.includes('$__rate_interval'))).toBe(true);
    expect(
      panelExpressions(Object.fromEntries(Object.entries(models).map(([k, d]) => [k, JSON.stringify(d)]))),
    ).toEqual(all);
  });

  it('read only catalogued metrics or recorded series', () => {
    const records = new Set(committedRules().flatMap((r) => (r.record ? [r.record] : [])));
    const types = new Map<string, string>(METRICS.map((m) => [m.name, m.type]));
    const known = (n: string): boolean =>
      records.has(n) || types.has(n) || types.get(n.replace(/_(bucket|count|sum)$/, '')) === 'histogram';
    const unknown = all.flatMap((e) =>
      metricNames(e.expr)
        .filter((n) => !known(n))
        .map((n) => `${e.dashboard} / ${e.panel}: ${n}`),
    );
    expect(unknown).toEqual([]);
    for (const d of Object.values(models)) {
      for (const v of d.templating.list.filter((x) => x.type === 'query')) {
        const q = String((v.query as { query: string }).query);
        expect(types.has(/label_values\(([a-z_]+)/.exec(q)![1]!), q).toBe(true);
      }
    }
  });

  const tmp = mkdtempSync(join(tmpdir(), 'sightline-dash-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it.skipIf(skipped(PROMTOOL))(
    titled('are valid PromQL once Grafana variables are substituted (promtool check rules)', PROMTOOL),
    () => {
      const substitute = (e: string): string =>
        e.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h').replaceAll('$route', 'r1');
      const file = join(tmp, 'dashboards.rules.yml');
      const rules = all.map((e, i) => ({ record: `dashboard:expr_${i}:check`, expr: substitute(e.expr) }));
      writeFileSync(file, YAML.stringify({ groups: [{ name: 'dashboards', rules }] }, { lineWidth: 0 }));
      const r = promtool(['check', 'rules', file]);
      expect(r.status, r.output).toBe(0);
    },
  );
});
