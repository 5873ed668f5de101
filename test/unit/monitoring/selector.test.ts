/**
 * `node monitoring/generate.mjs --out DIR --selector M --runbook-base URL` renders the rules and
 * dashboards for an existing Prometheus / Grafana (docs/grafana.md): every raw metric selector
 * carries the matchers, every runbook_url starts with the URL, the committed files stay as they
 * are, and promtool proves the scoping: the committed rule tests pass against the scoped rules when
 * their input series carry the matched label, and fail when they carry another value.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { panelExpressions, RULES_FILE, RUNBOOK_URL, type RuleFile } from '../../../monitoring/generate.mjs';
import { promtool, PROMTOOL, read, ROOT, ruleTestFiles } from './helpers.js';
import { skipped, titled } from '../../helpers/needs.js';

const tmp = mkdtempSync(join(tmpdir(), 'sightline-selector-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const BASE = 'https://wiki.example.com/ops/sightline-runbook';
const generate = (...args: string[]): { status: number | null; out: string } => {
  const r = spawnSync(process.execPath, ['monitoring/generate.mjs', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

const out = join(tmp, 'scoped');
const run = generate('--out', out, '--selector', 'job="sightline", env=~"prod|staging"', '--runbook-base', BASE);
const rulesText = readFileSync(join(out, RULES_FILE), 'utf8');
const rules = (YAML.parse(rulesText) as RuleFile).groups.flatMap((g) => g.rules);
const dashDir = join(out, 'grafana/dashboards');
const dashboards = readdirSync(dashDir).map((f) => readFileSync(join(dashDir, f), 'utf8'));

/** Raw metric references (not recording rules, which have a colon) and what follows them. */
const rawRefs = (expr: string): string[] =>
  [...expr.matchAll(/(?<![\w:])(sightline_[a-z_]+)(\{[^}]*\})?/g)].map((m) => m[2] ?? '');

describe('generate --selector --runbook-base', () => {
  it('writes the variant under --out and leaves the committed files unchanged', () => {
    expect(run.status, run.out).toBe(0);
    const check = generate('--check');
    expect(check.status, check.out).toBe(0);
    expect(read(RULES_FILE)).not.toContain('env=~');
  });

  it('every raw metric selector in the rules and the dashboards carries the matchers', () => {
    const exprs = [...rules.map((r) => r.expr), ...panelExpressions(dashboards).map((p) => p.expr)];
    const refs = exprs.flatMap(rawRefs);
    expect(refs.length).toBeGreaterThan(50);
    for (const r of refs) expect(r).toMatch(/^\{job="sightline",env=~"prod\|staging"/);
    // The route variable's query too.
    expect(dashboards.join('\n')).toContain(
      'label_values(sightline_connections_closed_total{job=\\"sightline\\",env=~\\"prod|staging\\"}, route)',
    );
  });

  it('every alert links to the runbook base, anchored by its name', () => {
    const alerts = rules.filter((r) => r.alert !== undefined);
    expect(alerts.length).toBeGreaterThan(5);
    for (const a of alerts) expect(a.annotations?.['runbook_url']).toBe(`${BASE}#${a.alert!.toLowerCase()}`);
  });

  it('refuses a variant over the committed files, and malformed matchers or URLs', () => {
    expect(generate('--selector', 'job="x"').status).toBe(2);
    const bad = generate('--out', join(tmp, 'bad'), '--selector', 'job=sightline');
    expect(bad.status).toBe(2);
    expect(bad.out).toContain('expected label matchers');
    expect(generate('--out', join(tmp, 'bad'), '--runbook-base', 'wiki/runbook').status).toBe(2);
    expect(generate('--out', join(tmp, 'bad'), '--runbook-base', `${BASE}#x`).status).toBe(2);
  });

  /** The committed rule tests, pointed at the scoped rules, with `job` and `env` on every input series. */
  const scopedTests = (job: string): string[] =>
    ruleTestFiles()
      .filter((f) => !f.includes('test-scale'))
      .map((f, i) => {
        const text = read(f)
          .replace(/^( {2}- ).*sightline\.rules\.yml\s*$/m, `$1${join(out, RULES_FILE)}`)
          .replace(/series: '(sightline_[a-z_]+)\{/g, `series: '$1{job="${job}",env="prod",`)
          .replaceAll(`${RUNBOOK_URL}#`, `${BASE}#`);
        const file = join(tmp, `${job}-${i}.test.yml`);
        writeFileSync(file, text);
        return file;
      });

  it.skipIf(skipped(PROMTOOL))(
    titled(
      'promtool: the scoped rules pass the rule tests for the matched job, and alert on nothing for another job',
      PROMTOOL,
    ),
    () => {
      const matched = promtool(['test', 'rules', ...scopedTests('sightline')]);
      expect(matched.status, matched.output).toBe(0);
      expect(matched.output).toMatch(/SUCCESS/);
      const other = promtool(['test', 'rules', ...scopedTests('someone-else')]);
      expect(other.status).toBe(1);
      expect(other.output).toMatch(/FAILED/);
      // Only "expected alert, got none" failures: nothing fires for series outside the selector.
      expect(other.output).toMatch(/got:\s*\[\]/);
    },
    180_000,
  );
});
