/**
 * How the diagnosis scenario suite judges one scenario (test/e2e/diagnose-scenarios.test.ts): what
 * it expected, what `diagnose` said, how many periods after the culprit's first act the detector
 * first showed the expected finding, and every finding it should not have shown. Also the table
 * of one run (test-output/diagnose-scenarios.md).
 */
import type { DiagnoseFinding, DiagnoseReport, Seen } from './scenario-cli.js';

export type ExpectedKind = 'age-clustered' | 'wall-clock-aligned' | 'abnormal-reason' | 'none';

export interface Expected {
  readonly kind: ExpectedKind;
  /** The true period (periodic kinds), or the time scale of the scenario: detection is counted in these. */
  readonly periodMs: number;
  readonly initiator?: 'client' | 'backend' | 'proxy';
  /** The family of the first culprit (familyOf below). */
  readonly family?: string;
}

export interface Said {
  readonly kind: string;
  /** null for abnormal-reason (no period). */
  readonly periodMs: number | null;
  readonly initiator: string;
  readonly family: string;
  /** The first culprit, or the first check when no known default fits the period. */
  readonly first: string;
}

export interface Outcome {
  readonly name: string;
  readonly what: string;
  readonly expected: Expected;
  /** What `diagnose --json` said about the route (null: no finding). */
  readonly said: Said | null;
  /** Findings `diagnose` reported on the route. */
  readonly saidCount: number;
  readonly diagnoseExit: number | null;
  /** When the culprit first acted, and when the expected finding first showed (epoch ms). */
  readonly t0: number | null;
  readonly detectedAt: number | null;
  readonly periodsToDetection: number | null;
  /** Findings that should not have been (on the route or its healthy neighbours), as seen. */
  readonly falseFindings: readonly string[];
  /** Scenario-specific facts (the reload's generation, the drain's closes) and whether they hold. */
  readonly facts: Readonly<Record<string, number>>;
  readonly factsProblem: string | null;
}

/**
 * The family of a finding's first culprit: Sightline's own setting (by key), a shared timer, a
 * timer on the backend side, something in front of Sightline, or an abnormal close reason.
 */
export function familyOf(f: DiagnoseFinding): { family: string; first: string } {
  const first = f.culprits[0] ?? f.checks[0] ?? '';
  let m = /^Sightline's own `([^`:]+)/.exec(first);
  if (m !== null) return { family: `sightline:${m[1]}`, first };
  if (/^a shared timer/.test(first)) return { family: 'shared-timer', first };
  if (/^something between Sightline and the backend|^the backend side|`timeout server`/.test(first))
    return { family: 'backend-side', first };
  if (/^something in front of Sightline|^the client side|`timeout client`/.test(first))
    return { family: 'in-front', first };
  m = /^([a-z_]+): /.exec(first);
  if (m !== null) return { family: `reason:${m[1]}`, first };
  return { family: 'other', first };
}

const periodic = (k: string): boolean => k === 'age-clustered' || k === 'wall-clock-aligned';

/** A finding matches when kind, period (±10 %) and initiator are the expected ones. */
export function matches(e: Expected, kind: string, periodMs: number, initiator: string): boolean {
  if (e.kind === 'none' || kind !== e.kind) return false;
  if (periodic(kind) && Math.abs(periodMs - e.periodMs) > 0.1 * e.periodMs) return false;
  return e.initiator === undefined || initiator === e.initiator;
}

const describeSeen = (s: { route: string; kind: string; periodMs: number; initiator: string }): string =>
  `${s.route}: ${s.kind}${periodic(s.kind) ? ` ${(s.periodMs / 1000).toFixed(2)} s` : ''} by ${s.initiator}`;

export function judge(
  sc: { name: string; what: string; expected: Expected; quiet?: readonly string[] },
  seen: readonly Seen[],
  diag: { code: number | null; report: DiagnoseReport | null },
  t0: number | null,
  facts: Readonly<Record<string, number>>,
  factsProblem: string | null,
): Outcome {
  const e = sc.expected;
  const mine = seen.filter((s) => s.route === sc.name);
  const hit = mine.find((s) => matches(e, s.kind, s.periodMs, s.initiator));
  const detectedAt = hit?.at ?? null;
  const falseFindings = new Set<string>();
  for (const s of mine) if (!matches(e, s.kind, s.periodMs, s.initiator)) falseFindings.add(`seen ${describeSeen(s)}`);
  for (const s of seen) if (sc.quiet?.includes(s.route) === true) falseFindings.add(`seen ${describeSeen(s)}`);

  const routes = diag.report?.routes ?? [];
  const findings = routes.find((r) => r.route === sc.name)?.findings ?? [];
  const f = findings.find((x) => matches(e, x.kind, x.periodSeconds * 1000, x.initiator)) ?? findings[0];
  let said: Said | null = null;
  if (f !== undefined) {
    const { family, first } = familyOf(f);
    said = {
      kind: f.kind,
      periodMs: periodic(f.kind) ? Math.round(f.periodSeconds * 1000) : null,
      initiator: f.initiator,
      family,
      first,
    };
  }
  for (const x of findings)
    if (x !== f || !matches(e, x.kind, x.periodSeconds * 1000, x.initiator))
      falseFindings.add(`said ${describeSeen({ ...x, route: sc.name, periodMs: x.periodSeconds * 1000 })}`);
  for (const r of routes)
    if (sc.quiet?.includes(r.route) === true)
      for (const x of r.findings)
        falseFindings.add(`said ${describeSeen({ ...x, route: r.route, periodMs: x.periodSeconds * 1000 })}`);

  return {
    name: sc.name,
    what: sc.what,
    expected: e,
    said,
    saidCount: findings.length,
    diagnoseExit: diag.code,
    t0,
    detectedAt,
    periodsToDetection: detectedAt === null || t0 === null ? null : (detectedAt - t0) / e.periodMs,
    falseFindings: [...falseFindings],
    facts,
    factsProblem,
  };
}

const sec = (ms: number | null | undefined): string =>
  ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`;

function expectedCell(e: Expected): string {
  if (e.kind === 'none') return 'no finding';
  const period = periodic(e.kind) ? ` ${sec(e.periodMs)}` : '';
  return `${e.kind}${period}, ${e.initiator ?? '?'}, ${e.family ?? '?'}`;
}

function saidCell(o: Outcome): string {
  if (o.said === null) return 'no finding (route healthy)';
  const s = o.said;
  const more = o.saidCount > 1 ? ` (+${o.saidCount - 1} more)` : '';
  return `${s.kind}${s.periodMs === null ? '' : ` ${sec(s.periodMs)}`}, ${s.initiator}, ${s.family}${more} (exit ${o.diagnoseExit ?? '?'})`;
}

/** A pass/fail word per scenario, the same rule the test asserts (see the test file). */
export function verdict(o: Outcome): string {
  const problems: string[] = [];
  const e = o.expected;
  if (e.kind === 'none') {
    if (o.said !== null) problems.push('a finding');
  } else {
    if (o.said === null) problems.push('no finding');
    else {
      if (o.said.kind !== e.kind) problems.push('kind');
      if (o.said.periodMs !== null && Math.abs(o.said.periodMs - e.periodMs) > 0.1 * e.periodMs)
        problems.push('period');
      if (o.said.initiator !== e.initiator) problems.push('initiator');
      if (o.said.family !== e.family) problems.push('culprit');
    }
    if (o.periodsToDetection === null || o.periodsToDetection > 3) problems.push('late');
  }
  if (o.falseFindings.length > 0) problems.push('false finding');
  if (o.factsProblem !== null) problems.push(o.factsProblem);
  return problems.length === 0 ? 'ok' : problems.join(', ');
}

/** The scenario table of one run: expected → said → periods to detection. */
export function table(outcomes: readonly Outcome[], header: string): string {
  const lines = [
    header,
    '',
    '| scenario | expected (kind, period, initiator, first culprit) | said by `diagnose` | periods to detection | false findings | verdict |',
    '|---|---|---|---|---|---|',
  ];
  for (const o of outcomes) {
    const det =
      o.expected.kind === 'none'
        ? 'n/a'
        : o.periodsToDetection === null
          ? 'not detected'
          : o.periodsToDetection.toFixed(2);
    lines.push(
      `| ${o.name}: ${o.what} | ${expectedCell(o.expected)} | ${saidCell(o)} | ${det} | ${o.falseFindings.length === 0 ? 'none' : o.falseFindings.join('; ')} | ${verdict(o)} |`,
    );
  }
  lines.push('');
  lines.push('First culprit (or, when no known default fits the period, the first "what to check" line) per scenario:');
  lines.push('');
  for (const o of outcomes) if (o.said !== null) lines.push(`- ${o.name}: ${o.said.first.slice(0, 200)}`);
  return `${lines.join('\n')}\n`;
}
