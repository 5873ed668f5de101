/**
 * Progress records for long-lived connections (issue 14 point 5): every
 * `telemetry.progressInterval`, each connection older than the interval gets a log line
 * ('connection progress') and an event on its connection span, with the bytes so far each way,
 * age, idle time, route, phase and configuration generation, so a week-long WebSocket is visible
 * long before its close record.
 *
 * Cost: no timer per connection. The proxy's sweep tick drives one pass over the live registry
 * per interval, spread over the first half of the interval (a live Map iterator resumes where the
 * last tick stopped), so 100 000 open connections cost a few visits per tick, not one burst of
 * 100 000 lines.
 */
import type { Attributes } from '@opentelemetry/api';
import type { ConnectionView } from '../core/channels.js';

/** What a progress record reads of a live connection (the registry's Connection has all of it). */
export interface ProgressConnection extends ConnectionView {
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /** Milliseconds since bytes last moved, as of the sweep's last activity sample. */
  readonly idleFor: number;
}

export interface ProgressRecord {
  readonly conn: ProgressConnection;
  readonly ageMs: number;
  readonly idleMs: number;
  /** Bytes from the client so far (client → backend) and to the client (backend → client). */
  readonly bytesIn: number;
  readonly bytesOut: number;
}

export class ProgressReporter {
  readonly #intervalMs: number;
  readonly #live: () => Iterable<ProgressConnection>;
  readonly #count: () => number;
  readonly #emit: (r: ProgressRecord) => void;
  #it: Iterator<ProgressConnection> | null = null;
  #passStart = -Infinity;
  #passSize = 0;
  #visited = 0;
  errors = 0;

  /** `intervalMs` > 0; `live()`: the open connections (read only), `count()` how many there are. */
  constructor(
    intervalMs: number,
    live: () => Iterable<ProgressConnection>,
    count: () => number,
    emit: (r: ProgressRecord) => void,
  ) {
    this.#intervalMs = intervalMs;
    this.#live = live;
    this.#count = count;
    this.#emit = emit;
  }

  /** From the proxy's sweep tick. */
  step(now: number): void {
    if (this.#it === null) {
      if (now - this.#passStart < this.#intervalMs) return;
      this.#passStart = now;
      this.#passSize = this.#count();
      this.#it = this.#live()[Symbol.iterator]();
      this.#visited = 0;
    }
    // Spread the pass over half the interval: done well before the next one starts.
    const spread = Math.max(1, this.#intervalMs / 2);
    const due = Math.ceil(this.#passSize * Math.min(1, (now - this.#passStart + 1) / spread));
    while (this.#visited < due) {
      const r = this.#it.next();
      if (r.done === true) {
        this.#it = null;
        return;
      }
      this.#visited++;
      this.#visit(r.value, now);
    }
    // Connections accepted during the pass wait for the next one.
    if (this.#visited >= this.#passSize) this.#it = null;
  }

  #visit(c: ProgressConnection, now: number): void {
    const ageMs = now - c.incomingStartTime;
    if (ageMs < this.#intervalMs || c.phase === 'closed') return;
    try {
      this.#emit({ conn: c, ageMs, idleMs: c.idleFor, bytesIn: c.bytesReceived, bytesOut: c.bytesSent });
    } catch {
      this.errors++; // a subscriber's trouble never reaches the sweep
    }
  }
}

/** The access-log style fields of a progress record. */
export function progressFields(r: ProgressRecord): Record<string, unknown> {
  const c = r.conn;
  return {
    event: 'connection-progress',
    connectionId: c.id,
    route: c.routeName,
    client: c.remoteIP,
    port: c.listenPort,
    mode: c.mode,
    phase: c.phase,
    ageMs: r.ageMs,
    idleMs: r.idleMs,
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    configGeneration: c.story.configGeneration,
  };
}

/** The attributes of a progress span event (names as on the close: sightline.bytes.*, ...). */
export function progressAttributes(r: ProgressRecord): Attributes {
  const c = r.conn;
  const a: Attributes = {
    'sightline.age_ms': r.ageMs,
    'sightline.idle_ms': r.idleMs,
    'sightline.bytes.from_client': r.bytesIn,
    'sightline.bytes.to_client': r.bytesOut,
    'sightline.phase': c.phase,
    'sightline.config.generation': c.story.configGeneration,
  };
  if (c.routeName !== null) a['sightline.route'] = c.routeName;
  return a;
}
