/**
 * Turns what the detector measured (patterns.ts) into a named finding: who closed, the culprits
 * that fit both the timer family and that side (fingerprints.ts), and Sightline's own setting first
 * when Sightline itself closed. Sightline's kills land up to one activity sample late, so a local
 * cluster near a configured timer is reported at the configured value, the measured one beside it.
 */
import { INITIATORS, type Members } from './pattern-ring.js';
import type { ConfiguredTimer } from './configured-timers.js';
import { closedBy, culpritsFor, type PatternShape, type PatternTimer } from './fingerprints.js';
import type { DetectedPattern } from './pattern-types.js';

export interface Measured {
  readonly route: string;
  readonly kind: PatternShape;
  readonly periodMs: number;
  readonly spreadMs: number;
  readonly timer: PatternTimer;
  readonly members: Members;
  /** Sightline's timers on this route (empty when the detector was not told). */
  readonly timers: readonly ConfiguredTimer[];
  /** How late a local kill may land after its deadline (ms). */
  readonly slackMs: number;
  /** Wall-clock: the number of bursts. */
  readonly bursts?: number;
  readonly undecided?: string | null;
}

export const fmt = (ms: number): string => (ms / 1000).toFixed(1);
export const fmtAt = (ms: number): string => (ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000)));
/** A period within this of a configured timer is that timer (ms). */
const sameTimer = (ms: number): number => Math.max(500, 0.03 * ms);

/** The initiator most members share; local when most were Sightline's decisions. */
export function whoClosed(m: Members): { initiator: (typeof INITIATORS)[number]; local: boolean } {
  let who = 0;
  for (let x = 1; x < 3; x++) if (m.byInitiator[x]! > m.byInitiator[who]!) who = x;
  return { initiator: INITIATORS[who]!, local: m.local * 2 > m.count };
}

export const topReason = (reasons: Readonly<Record<string, number>>): string =>
  Object.entries(reasons).sort((p, q) => q[1] - p[1])[0]?.[0] ?? 'unknown';

export function namePattern(x: Measured): DetectedPattern {
  const m = x.members;
  const { initiator, local } = whoClosed(m);
  const by = closedBy(initiator, local);
  const top = topReason(m.reasons);
  let periodMs = x.periodMs;
  let measuredMs: number | null = null;
  let setting: string | null = null;
  const culprits: string[] = [];
  if (by === 'sightline') {
    // The reason names the timer; the configured value is what decided, not the late kill.
    const own = x.timers.find((t) => t.reason === top);
    if (own !== undefined) {
      setting = own.setting;
      culprits.push(`Sightline's own \`${own.setting}\` on route ${x.route} (reason ${top})`);
      if (
        x.kind === 'age-clustered' &&
        periodMs >= own.ms - sameTimer(own.ms) &&
        periodMs <= own.ms + sameTimer(own.ms) + x.slackMs
      ) {
        measuredMs = periodMs;
        periodMs = own.ms;
      }
    }
  } else {
    for (const t of x.timers) {
      if (Math.abs(t.ms - periodMs) <= sameTimer(t.ms)) {
        culprits.push(
          `the period equals Sightline's own \`${t.setting}\` on route ${x.route}, yet a peer closed: another proxy with the same setting on the path?`,
        );
      }
    }
  }
  const table = culpritsFor(periodMs / 1000, x.kind, x.timer, by);
  culprits.push(...table);
  const timersOnPath = culprits.length === 0 ? x.timers.map((t) => `${t.setting} (${fmtAt(t.ms)} s)`) : [];

  const what =
    x.kind === 'wall-clock-aligned'
      ? `are closed together every ${fmt(periodMs)} s ± ${fmt(x.spreadMs)} s`
      : `die at ${fmt(periodMs)} s ± ${fmt(x.spreadMs)} s${measuredMs === null ? '' : ` (Sightline's \`${setting}\`; measured ${fmt(measuredMs)} s, its sweep kills up to one sample late)`}`;
  const extra = x.bursts === undefined ? '' : `${x.bursts} bursts, `;
  const causes =
    table.length > 0 || culprits.length > 0
      ? `known causes at ${fmtAt(periodMs)} s: ${culprits.join('; ')}`
      : `no known default at this period (${fmtAt(periodMs)} s)${timersOnPath.length > 0 ? `; timers configured on this path: ${timersOnPath.join(', ')}` : ''}`;
  const closer = `closed by ${initiator}${local ? ' (proxy decision)' : ''}`;
  const undecided = x.undecided ?? null;
  const summary = `connections on route ${x.route} ${what} (${x.kind}, ${x.timer}, ${closer}, ${extra}${m.count} closes, mostly ${top}); ${causes}${undecided === null ? '' : `; ${undecided}`}`;
  return Object.freeze({
    route: x.route,
    kind: x.kind,
    periodMs,
    measuredMs,
    setting,
    undecided,
    timersOnPath: Object.freeze(timersOnPath),
    spreadMs: x.spreadMs,
    count: m.count,
    timer: x.timer,
    initiator,
    local,
    reasons: Object.freeze(m.reasons),
    culprits: Object.freeze(culprits),
    summary,
    firstSeen: m.firstSeen,
    lastSeen: m.lastSeen,
  });
}
