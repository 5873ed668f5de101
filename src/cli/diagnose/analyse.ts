/**
 * Facts → report: one finding per standing disconnect pattern (what is happening, the evidence,
 * the likely culprits from the fingerprint table, what to check), one "healthy" line for routes
 * without one, and notes for histogram spikes at a fingerprint value the detector does not
 * (or no longer) report; a section for routes whose closes are mostly abnormal (abnormal.ts).
 * Exit code 1 when any route has a finding, else 0.
 */
import { closedBy, culpritsFor, type PatternShape, type PatternTimer } from '../../telemetry/fingerprints.js';
import { ABNORMAL_KIND, abnormalFindings } from './abnormal.js';
import { advice } from './advice.js';
import {
  bucketAround,
  countBetween,
  histogramTotal,
  type Facts,
  type Histogram,
  type PatternFact,
  type RouteFacts,
} from './facts.js';
import { fingerprintSpikes, fleetPatterns, instanceCounts } from './fleet.js';

export interface Finding {
  readonly route: string;
  readonly kind: string;
  readonly periodSeconds: number;
  readonly spreadSeconds: number | null;
  readonly count: number | null;
  readonly initiator: string;
  readonly local: boolean;
  readonly timer: string;
  readonly headline: string;
  readonly evidence: readonly string[];
  readonly culprits: readonly string[];
  readonly checks: readonly string[];
  /** The detector's own one-line summary (admin API only). */
  readonly summary: string | null;
  /** Prometheus: the instances the pattern's closes came from, with how many each. */
  readonly instances: ReadonlyArray<{ readonly instance: string; readonly closes: number }>;
  /** No known product default at the period: Sightline's timers on the route (admin API only). */
  readonly timersOnPath?: readonly string[];
}

export interface RouteReport {
  readonly route: string;
  readonly status: 'pattern' | 'healthy';
  readonly active: number | null;
  readonly closes: number;
  readonly closesByReason: ReadonlyArray<{
    readonly reason: string;
    readonly initiator: string;
    readonly count: number;
  }>;
  readonly findings: readonly Finding[];
  readonly notes: readonly string[];
}

export interface Report {
  readonly source: Facts['source'];
  readonly window: string | null;
  readonly version: string | null;
  readonly routes: readonly RouteReport[];
  readonly findings: number;
  readonly exitCode: 0 | 1;
}

const one = (x: number): string => x.toFixed(1);
/** Below 10 s one decimal, above whole seconds (as the fingerprint table reads). */
const about = (x: number): string => (x < 10 ? x.toFixed(1) : String(Math.round(x)));
const edge = (x: number): string => (Number.isInteger(x) ? String(x) : String(Number(x.toFixed(2))));
const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

const SHAPES: readonly string[] = ['age-clustered', 'wall-clock-aligned'];
const TIMERS: readonly string[] = ['idle-timeout', 'age-cap', 'unknown'];

function dominant(counts: ReadonlyMap<string, number>): string | undefined {
  let best: string | undefined;
  let n = 0;
  for (const [k, v] of counts) if (v > n) [best, n] = [k, v];
  return best;
}

function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function topReasons(r: RouteFacts, limit = 5): string {
  const sorted = [...r.closes].sort((a, b) => b.count - a.count);
  const shown = sorted.slice(0, limit).map((c) => `${c.reason} ${c.count} (${c.initiator})`);
  if (sorted.length > limit) shown.push(`${sorted.length - limit} more`);
  return shown.join(', ');
}

function finding(r: RouteFacts, p: PatternFact, window: string | null): Finding {
  const period = p.periodMs / 1000;
  const shape: PatternShape = SHAPES.includes(p.kind) ? (p.kind as PatternShape) : 'age-clustered';
  const bucket = bucketAround(r.duration, period);
  const inBucket = bucket === null ? 0 : countBetween(r.duration, bucket.lo, bucket.hi);
  const idleBucket = bucketAround(r.idle, period);
  const idleIn = idleBucket === null ? 0 : countBetween(r.idle, idleBucket.lo, idleBucket.hi);

  // Who closed: the detector says; else the initiator most of the histogram's bucket holds.
  let initiator = p.initiator;
  if (initiator === undefined && bucket !== null) {
    initiator = dominant(
      new Map([...r.duration.keys()].map((who) => [who, countBetween(r.duration, bucket.lo, bucket.hi, who)])),
    );
  }
  if (initiator === undefined) {
    const by = new Map<string, number>();
    for (const c of r.closes) by.set(c.initiator, (by.get(c.initiator) ?? 0) + c.count);
    initiator = dominant(by);
  }
  initiator ??= 'unknown';
  const local = p.local ?? initiator === 'proxy';

  // The timer: idle-at-close ≈ the age for most of the cluster means an idle timer.
  let timer = p.timer !== undefined && TIMERS.includes(p.timer) ? p.timer : undefined;
  if (
    timer === undefined &&
    shape === 'age-clustered' &&
    inBucket > 0 &&
    idleBucket !== null &&
    bucket !== null &&
    idleBucket.hi === bucket.hi
  ) {
    const share = idleIn / inBucket;
    timer = share >= 0.75 ? 'idle-timeout' : share <= 0.25 ? 'age-cap' : 'unknown';
  }
  timer ??= 'unknown';
  const count = p.count ?? (inBucket > 0 ? inBucket : null);

  const reasons: Record<string, number> = {};
  if (p.reasons !== undefined && Object.keys(p.reasons).length > 0) Object.assign(reasons, p.reasons);
  else for (const c of r.closes) if (c.initiator === initiator) reasons[c.reason] = (reasons[c.reason] ?? 0) + c.count;

  const culprits =
    p.culprits !== undefined && p.culprits.length > 0
      ? [...p.culprits]
      : culpritsFor(period, shape, timer as PatternTimer, closedBy(initiator, local));
  const spread = p.spreadMs === undefined ? '' : ` ± ${one(p.spreadMs / 1000)} s`;
  const side =
    local || initiator === 'proxy'
      ? 'by Sightline itself'
      : initiator === 'backend'
        ? 'by the backend side'
        : initiator === 'client'
          ? 'by the client side'
          : 'by an unrecorded side';
  const idleText =
    timer === 'idle-timeout'
      ? `, idle at close ≈ ${about(period)} s`
      : timer === 'age-cap'
        ? ', while traffic was still flowing (not idle)'
        : '';
  // Which replicas the closes came from (Prometheus, when it scrapes several).
  const instances = bucket === null ? [] : instanceCounts(r, bucket.lo, bucket.hi);
  for (const i of p.instances ?? [])
    if (!instances.some((x) => x.instance === i)) instances.push({ instance: i, closes: 0 });
  const across = instances.length >= 2 ? ` across ${instances.length} instances` : '';

  const headline =
    shape === 'wall-clock-aligned'
      ? `connections on route ${r.route} are being closed together every ${one(period)} s${spread} (at the same instants, whatever their age), ${side}${idleText}`
      : `connections on route ${r.route} are being closed at ${p.fleet === true ? '≈ ' : ''}${one(period)} s${spread} of age${across}, ${side}${idleText}`;

  const evidence: string[] = [];
  const what =
    shape === 'wall-clock-aligned'
      ? 'wall-clock-aligned: connections of different ages closed at the same instants, a shared timer'
      : 'age-clustered: connections opened at different times all closed at the same age, a per-connection timer';
  const seen =
    p.firstSeen !== undefined && p.lastSeen !== undefined
      ? `, first ${clockTime(p.firstSeen)}, last ${clockTime(p.lastSeen)} UTC`
      : '';
  evidence.push(
    `${count === null ? 'the detector reports a pattern' : `${plural(count, 'close')} make up the pattern`} (${what}${seen})`,
  );
  if (p.fleet === true && bucket !== null) {
    evidence.push(
      `period ≈ ${one(period)} s: the fingerprint value in the ${edge(bucket.lo)}–${edge(bucket.hi)} s bucket of the duration histogram summed over the instances; no single instance's detector held enough of these closes to report them`,
    );
  } else
    evidence.push(
      `period ${one(period)} s${spread}${p.spreadMs === undefined ? " (the detector's period gauge)" : ''}`,
    );
  if (instances.length > 0) {
    evidence.push(
      `instances: ${instances.map((i) => `${i.instance} (${plural(i.closes, 'close')}${(p.instances ?? []).includes(i.instance) && p.fleet !== true ? ', its detector reports it' : ''})`).join(', ')}`,
    );
  }
  evidence.push(
    `closed by: ${initiator}${local ? ' (a Sightline decision)' : initiator === 'unknown' ? '' : ' (a FIN/RST from that side, not a Sightline decision)'}`,
  );
  evidence.push(
    timer === 'idle-timeout'
      ? `idle at close ≈ the age for most of them: an idle timer (silent for ${about(period)} s, then cut)`
      : timer === 'age-cap'
        ? 'traffic flowed shortly before most of the closes: an age cap or deadline, not an idle timer'
        : 'idle at close varied: the timer could be an idle timeout or an age cap',
  );
  const since = window === null ? ' since the proxy started' : ` over the last ${window}`;
  const total = histogramTotal(r.duration);
  if (bucket !== null && total > 0) {
    let h = `duration histogram: ${inBucket} of ${plural(total, 'close')} on this route${since} lasted ${edge(bucket.lo)}–${edge(bucket.hi)} s`;
    if (idleBucket !== null && histogramTotal(r.idle) > 0)
      h += `; idle-at-close histogram: ${idleIn} had been idle ${edge(idleBucket.lo)}–${edge(idleBucket.hi)} s`;
    evidence.push(h);
  }
  if (r.closes.length > 0) evidence.push(`close reasons on this route${since}: ${topReasons(r)}`);
  if (p.measuredMs != null)
    evidence.push(
      `reported at the configured \`${p.setting ?? '?'}\`; measured ${one(p.measuredMs / 1000)} s (Sightline's sweep kills up to one sample late)`,
    );
  if (p.undecided != null) evidence.push(p.undecided);

  return {
    route: r.route,
    kind: shape,
    periodSeconds: period,
    spreadSeconds: p.spreadMs === undefined ? null : p.spreadMs / 1000,
    count,
    initiator,
    local,
    timer,
    headline,
    evidence,
    culprits,
    checks: advice({
      route: r.route,
      periodSeconds: period,
      kind: shape,
      initiator,
      local,
      timer,
      reasons,
      setting: p.setting ?? null,
    }),
    summary: p.summary ?? null,
    instances,
    timersOnPath: p.timersOnPath ?? [],
  };
}

/** A spike in a fingerprint bucket with no standing pattern: worth a look, not a finding. */
function spikeNotes(h: Histogram): string[] {
  return fingerprintSpikes(h).map((s) => {
    const c = culpritsFor(s.seconds, 'age-clustered');
    return `${s.count} of ${plural(s.longer, 'close')} longer than 1 s lasted ${edge(s.lo)}–${edge(s.hi)} s, a fingerprint value (${c.slice(0, 3).join('; ')}); the detector has no standing pattern now (it may have expired, or those connections started together): watch the status page`;
  });
}

export function analyse(facts: Facts): Report {
  const window = facts.window ?? null;
  const routes: RouteReport[] = facts.routes.map((r) => {
    const periodic = [...r.patterns, ...fleetPatterns(r)].filter((p) => p.kind !== ABNORMAL_KIND);
    const timed = periodic.sort((a, b) => a.periodMs - b.periodMs).map((p) => finding(r, p, window));
    // A periodic finding already lists the route's close reasons: no second finding for them.
    const findings =
      timed.length > 0 && facts.source.kind === 'prometheus'
        ? timed
        : [...timed, ...abnormalFindings(r, facts.source.kind, window)];
    const closes = r.closes.reduce((n, c) => n + c.count, 0);
    return {
      route: r.route,
      status: findings.length > 0 ? 'pattern' : 'healthy',
      active: r.active ?? null,
      closes,
      closesByReason: [...r.closes].sort((a, b) => b.count - a.count),
      findings,
      notes: findings.length > 0 ? [] : spikeNotes(r.duration),
    };
  });
  // Routes with findings first, then by name.
  routes.sort((a, b) => (a.status === b.status ? a.route.localeCompare(b.route) : a.status === 'pattern' ? -1 : 1));
  const findings = routes.reduce((n, r) => n + r.findings.length, 0);
  return {
    source: facts.source,
    window,
    version: facts.version ?? null,
    routes,
    findings,
    exitCode: findings > 0 ? 1 : 0,
  };
}
