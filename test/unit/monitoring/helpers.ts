/** Shared by the monitoring tests: repository paths, promtool, the rule and test files as data. */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { ROOT, type RuleFile } from '../../../monitoring/generate.mjs';
import { needCommand } from '../../helpers/needs.js';

export { ROOT };

export const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

export const filesIn = (rel: string, ext: string): string[] =>
  readdirSync(join(ROOT, rel))
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => `${rel}/${f}`);

/** promtool: the checks run where it exists; in CI its absence is a failure, not a skip. */
export const PROMTOOL = needCommand('promtool', 'prometheus');
export const promtoolMode: 'run' | 'skip' | 'fail' = PROMTOOL.ok ? 'run' : PROMTOOL.skip ? 'skip' : 'fail';

export function promtool(args: string[], cwd = ROOT): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

export const ruleFiles = (): string[] => filesIn('prometheus/rules', '.yml');
export const ruleTestFiles = (): string[] => filesIn('prometheus/tests', '.yml');

/** Every rule of every committed rule file. */
export function committedRules(): RuleFile['groups'][number]['rules'] {
  return ruleFiles().flatMap((f) => (YAML.parse(read(f)) as RuleFile).groups.flatMap((g) => g.rules));
}

export interface AlertCase {
  file: string;
  group: string;
  alertname: string;
  evalSeconds: number;
  expAlerts: Array<{ exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }>;
}

interface RuleTestFile {
  tests: Array<{
    name?: string;
    alert_rule_test?: Array<{ eval_time: string; alertname: string; exp_alerts?: AlertCase['expAlerts'] }>;
  }>;
}

export function alertCases(parseDuration: (d: string) => number): AlertCase[] {
  return ruleTestFiles().flatMap((file) =>
    (YAML.parse(read(file)) as RuleTestFile).tests.flatMap((t, i) =>
      (t.alert_rule_test ?? []).map((c) => ({
        file,
        group: `${file}#${t.name ?? i}`,
        alertname: c.alertname,
        evalSeconds: parseDuration(c.eval_time),
        expAlerts: c.exp_alerts ?? [],
      })),
    ),
  );
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
export function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.+?)\s*#*$/.exec(line);
    if (m)
      anchors.add(
        m[1]!
          .toLowerCase()
          .replace(/[^\p{L}\p{N} _-]/gu, '')
          .replace(/ /g, '-'),
      );
  }
  return anchors;
}
