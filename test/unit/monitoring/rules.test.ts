/**
 * The Prometheus rules (prometheus/rules, generated from monitoring/config.mjs): promtool lint and
 * unit tests, a test for every alert (before for:, after for:, a look-alike), metric names from
 * the catalogue, runbook anchors, mixin conventions.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../../src/telemetry/metric-catalogue.js';
import {
  config,
  metricNames,
  parseDuration,
  renderRules,
  RUNBOOK_URL,
  rulesObject,
} from '../../../monitoring/generate.mjs';
import {
  alertCases,
  committedRules,
  markdownAnchors,
  promtool,
  PROMTOOL,
  promtoolMode,
  read,
  ruleFiles,
  ruleTestFiles,
} from './helpers.js';
import { skipped, titled } from '../../helpers/needs.js';

const rules = committedRules();
const alerts = rules.filter((r) => r.alert !== undefined);
const records = new Set(rules.flatMap((r) => (r.record === undefined ? [] : [r.record])));

/** A promtool check; its title says why when it is skipped. */
const itPromtool = (title: string, fn: () => void): void => it.skipIf(skipped(PROMTOOL))(titled(title, PROMTOOL), fn);

describe('promtool', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sightline-rules-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('is available where CI runs', () => {
    expect(promtoolMode, 'promtool (Debian package "prometheus") must be installed in CI').not.toBe('fail');
  });

  itPromtool('check rules --lint=all --lint-fatal passes on prometheus/rules/*.yml', () => {
    const r = promtool(['check', 'rules', '--lint=all', '--lint-fatal', ...ruleFiles()]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status, r.output).toBe(0);
  });

  itPromtool('test rules passes on prometheus/tests/*.yml', () => {
    const r = promtool(['test', 'rules', ...ruleTestFiles()]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS/);
  });

  itPromtool('the compressed (test-scale) rules fire every alert within minutes (prometheus/tests/test-scale)', () => {
    writeFileSync(join(tmp, 'sightline.rules.test-scale.rules.yml'), renderRules(config({ scale: 'test' })));
    writeFileSync(
      join(tmp, 'sightline.rules.test-scale.yml'),
      read('prometheus/tests/test-scale/sightline.rules.test-scale.yml'),
    );
    const r = promtool(['test', 'rules', join(tmp, 'sightline.rules.test-scale.yml')]);
    expect(r.status, r.output).toBe(0);
  });

  itPromtool('the compressed (test-scale) rules and a customised selector pass the same lint', () => {
    const variants = {
      'test-scale.yml': config({ scale: 'test' }),
      'selector.yml': config({ selector: 'job="sightline"' }),
    };
    for (const [name, c] of Object.entries(variants)) writeFileSync(join(tmp, name), renderRules(c));
    const r = promtool([
      'check',
      'rules',
      '--lint=all',
      '--lint-fatal',
      ...Object.keys(variants).map((n) => join(tmp, n)),
    ]);
    expect(r.status, r.output).toBe(0);
  });
});

describe('every alert is tested', () => {
  const cases = alertCases(parseDuration);

  it('the rule files define the alerts the brief asks for', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'SightlineAbnormalCloseReasonDominant',
        'SightlineAbnormalCloses',
        'SightlineAlignedCloseBursts',
        'SightlineBackendConnectFailures',
        'SightlineConnectionsNeverOld',
        'SightlineFixedAgeDisconnects',
        'SightlineHeartbeatTimeouts',
        'SightlineInactivityKillSurge',
        'SightlineThirtySecondDrops',
        'SightlineZombieConnections',
      ].sort(),
    );
  });

  it('no test names an alert that does not exist', () => {
    const names = new Set(alerts.map((a) => a.alert));
    expect(cases.filter((c) => !names.has(c.alertname)).map((c) => `${c.group}: ${c.alertname}`)).toEqual([]);
  });

  for (const a of alerts) {
    it(`${a.alert}: ≥ 3 cases; fires after for: (labels and annotations checked); quiet before for:; a look-alike stays quiet after for:`, () => {
      const mine = cases.filter((c) => c.alertname === a.alert);
      const forSeconds = parseDuration(a.for ?? '0s');
      expect(mine.length, `${a.alert}: test cases`).toBeGreaterThanOrEqual(3);

      const firing = mine.filter((c) => c.expAlerts.length > 0);
      expect(firing.length, `${a.alert}: a case where it fires`).toBeGreaterThan(0);
      expect(
        firing.some(
          (c) =>
            c.evalSeconds >= forSeconds &&
            c.expAlerts.every((e) => e.exp_labels !== undefined && e.exp_annotations !== undefined),
        ),
        `${a.alert}: a firing case after for: that checks exp_labels and exp_annotations`,
      ).toBe(true);
      for (const c of firing)
        for (const e of c.expAlerts)
          expect(e.exp_labels?.severity, `${c.group}: severity label`).toBe(a.labels?.severity);

      const before = mine.filter(
        (c) => c.expAlerts.length === 0 && firing.some((f) => f.group === c.group && c.evalSeconds < f.evalSeconds),
      );
      expect(before.length, `${a.alert}: a quiet case before for:, in a test where it later fires`).toBeGreaterThan(0);

      const firingGroups = new Set(firing.map((c) => c.group));
      const lookAlikes = mine.filter(
        (c) => c.expAlerts.length === 0 && c.evalSeconds >= forSeconds && !firingGroups.has(c.group),
      );
      expect(
        lookAlikes.length,
        `${a.alert}: a look-alike test (exp_alerts: [] after for:, in a test where it never fires)`,
      ).toBeGreaterThan(0);
    });
  }
});

describe('rule conventions', () => {
  it('alerts follow the mixin style: Sightline prefix, severity, static summary, templated description, runbook_url', () => {
    for (const a of alerts) {
      expect(a.alert).toMatch(/^Sightline[A-Z][A-Za-z]+$/);
      expect(['critical', 'warning', 'info']).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.summary, `${a.alert}: summary is static`).not.toMatch(/\{\{/);
      expect(a.annotations?.description, a.alert).toMatch(/\{\{ \$labels\.route \}\}/);
      expect(a.annotations?.description, a.alert).toMatch(/\$value/);
      expect(a.annotations?.runbook_url, a.alert).toBe(`${RUNBOOK_URL}#${a.alert!.toLowerCase()}`);
    }
  });

  it('production for: is 10–15 min and longer than the rate window; the test scale compresses it', () => {
    const window = parseDuration(config().window);
    expect(window).toBe(300);
    for (const a of alerts) {
      const f = parseDuration(a.for ?? '0s');
      expect(f, a.alert).toBeGreaterThanOrEqual(600);
      expect(f, a.alert).toBeLessThanOrEqual(900);
    }
    const t = config({ scale: 'test' });
    expect(t.window).toBe('1m');
    expect(Object.values(t.alerts).every((a) => a.for === '30s')).toBe(true);
    expect(
      rulesObject(t)
        .groups.flatMap((g) => g.rules)
        .filter((r) => r.alert).length,
    ).toBe(alerts.length);
  });

  it('config overrides deep-merge over a scale, and a bad scale is refused', () => {
    const c = config({ scale: 'test', alerts: { connectionsNeverOld: { ageSeconds: 10 } } });
    expect(c.alerts.connectionsNeverOld!.ageSeconds).toBe(10);
    expect(c.alerts.connectionsNeverOld!.window).toBe('2m');
    expect(config().alerts.connectionsNeverOld!.ageSeconds).toBe(300);
    expect(() => config({ scale: 'huge' as 'test' })).toThrow(/unknown scale/);
  });

  it('le is matched with a regex that works on Prometheus 2 and 3, never a literal', () => {
    const text = ruleFiles().map(read).join('\n');
    expect(text).not.toMatch(/le\s*=\s*"/);
    expect(text).toContain('le=~"28(\\\\.0)?"');
    expect(text).toContain('le=~"32(\\\\.0)?"');
  });

  it("the 30 s alert excludes Sightline's own closes", () => {
    const bandRules = rules.filter((r) => r.labels?.band === '30s');
    expect(bandRules.length).toBe(1);
    expect(bandRules[0]!.expr).toContain('initiator!="proxy"');
  });
});

describe('metric names', () => {
  const catalogue = new Map<string, string>(METRICS.map((m) => [m.name, m.type]));
  const known = (name: string): boolean => {
    if (records.has(name) || catalogue.has(name)) return true;
    const base = /^(.*)_(bucket|count|sum)$/.exec(name)?.[1];
    return base !== undefined && catalogue.get(base) === 'histogram';
  };

  it('every metric a rule reads is in the catalogue or recorded by a rule', () => {
    const unknown = rules.flatMap((r) =>
      metricNames(r.expr)
        .filter((n) => !known(n))
        .map((n) => `${r.record ?? r.alert}: ${n}`),
    );
    expect(unknown).toEqual([]);
    expect(rules.flatMap((r) => metricNames(r.expr)).length).toBeGreaterThan(40);
  });

  it('every label a rule selects on exists on its metric', () => {
    const labelsOf = new Map<string, readonly string[]>(METRICS.map((m) => [m.name, m.labels]));
    for (const r of rules) {
      for (const m of r.expr.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\{([^}]*)\}/g)) {
        const name = m[1]!;
        const base = /^(.*)_(bucket|count|sum)$/.exec(name)?.[1];
        const labels =
          labelsOf.get(name) ?? (base ? labelsOf.get(base)?.concat(name.endsWith('_bucket') ? ['le'] : []) : undefined);
        if (labels === undefined) continue; // a recording rule
        for (const l of m[2]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g))
          expect(labels, `${r.alert ?? r.record}: ${name}{${l[1]}}`).toContain(l[1]);
      }
    }
  });

  it('the metric-name scanner finds names and skips functions, keywords, labels and durations', () => {
    expect(
      metricNames(
        'sum by (route, le) (rate(a_total{x="y"}[5m] offset 1h)) / on (route) group_left () b:c:d > 0.5 and ignoring (le) c',
      ),
    ).toEqual(['a_total', 'b:c:d', 'c']);
    expect(metricNames('histogram_quantile(0.9, sum by (le) (rate(x_bucket[$__rate_interval]))) or vector(0)')).toEqual(
      ['x_bucket'],
    );
  });
});

describe('runbook', () => {
  const anchors = markdownAnchors(read('docs/runbook.md'));
  it('has a section for every runbook_url anchor', () => {
    for (const a of alerts) {
      const url = a.annotations?.runbook_url ?? '';
      expect(url.startsWith(`${RUNBOOK_URL}#`), url).toBe(true);
      expect(anchors, `docs/runbook.md has no heading for ${url}`).toContain(url.split('#')[1]);
    }
  });
});
