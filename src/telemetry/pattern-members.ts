/**
 * What the closes of a found group say about it (patterns.ts): the members' counts (who closed,
 * how many were silent all their life, their reasons and time span) and the timer family that
 * their silence points at. Shared by the age-cluster and the wall-clock analyses.
 */
import type { PatternTimer } from './fingerprints.js';
import { LOCAL_BIT, type Members, type Ring } from './pattern-ring.js';

/** An idle gap this close to the age means the connection was silent all its life. */
const idleTolerance = (v: number): number => Math.max(1_000, 0.05 * v);

/** Count the ring's closes that `member` selects. */
export function collectMembers(ring: Ring, member: (k: number) => boolean): Members {
  const m: Members = {
    count: 0,
    silent: 0,
    local: 0,
    firstSeen: Infinity,
    lastSeen: -Infinity,
    byInitiator: [0, 0, 0],
    reasons: {},
  };
  for (let k = 0; k < ring.length; k++) {
    if (!member(k)) continue;
    const dur = ring.dur[k]!;
    const flags = ring.flags[k]!;
    const reason = ring.reasons[k]!;
    m.count++;
    if (ring.idle[k]! >= dur - idleTolerance(dur)) m.silent++;
    if ((flags & LOCAL_BIT) !== 0) m.local++;
    m.byInitiator[flags & 3]!++;
    m.reasons[reason] = (m.reasons[reason] ?? 0) + 1;
    m.firstSeen = Math.min(m.firstSeen, ring.at[k]!);
    m.lastSeen = Math.max(m.lastSeen, ring.at[k]!);
  }
  return m;
}

/** Idle-at-close names the timer: most silent all their life → idle timer; few → age cap. */
export function timerOfSilence(mem: Members): PatternTimer {
  const silentShare = mem.silent / mem.count;
  return silentShare >= 0.75 ? 'idle-timeout' : silentShare <= 0.25 ? 'age-cap' : 'unknown';
}

/** Ring members of `member` that also fall in a burst. */
export function overlap(ring: Ring, member: (k: number) => boolean, inBursts: (k: number) => boolean): number {
  let n = 0;
  for (let k = 0; k < ring.length; k++) if (member(k) && inBursts(k)) n++;
  return n;
}
