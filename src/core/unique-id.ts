/**
 * Connection unique ids for cross-hop correlation (sent to the next hop in a PROXY v2
 * PP2_TYPE_UNIQUE_ID TLV, logged, on spans, in the admin API).
 *
 * The numeric connection id restarts at 1 in every proxy, worker and process, so it cannot join
 * log lines across machines. A unique id is 24 hex digits drawn at random once per process
 * (96 bits: among a million processes the chance that two share a prefix is below 1e-17) followed
 * by 12 hex digits of a per-process counter: 36 lowercase hex characters, far under the spec's
 * 128-byte bound, safe in any log or header, cheap to make (no random bytes per connection), and
 * the ids of one process share their prefix, which says which process served a connection.
 */
import { randomBytes } from 'node:crypto';

const PROCESS_PREFIX = randomBytes(12).toString('hex');
let counter = 0;

/** The next per-process sequence number (take it at accept; format it only when asked). */
export function nextUniqueSeq(): number {
  return ++counter;
}

/** The unique id of sequence number `seq` taken in this process. */
export function formatUniqueId(seq: number): string {
  return PROCESS_PREFIX + seq.toString(16).padStart(12, '0');
}

/** Whether `s` has the shape of a Sightline unique id (admin look-ups by id). */
export function isUniqueIdShape(s: string): boolean {
  return /^[0-9a-f]{36}$/.test(s);
}
