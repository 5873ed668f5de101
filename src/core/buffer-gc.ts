/**
 * Frees spent socket read buffers with cheap young-generation collections, so that bulk transfers
 * never make V8 run full mark-compacts (issue 13, point 6: throughput must not depend on a node flag).
 *
 * Why: Node allocates a fresh off-heap ArrayBuffer (up to 64 KiB) for every socket read. V8 frees a
 * dead one only when a garbage collection visits it. A read adds ~100 bytes to the JS heap, so the
 * new space fills (and a scavenge runs) only after hundreds of MB of reads, while V8 starts
 * incremental marking and a full mark-compact as soon as external memory has grown by 64 MB since
 * the last one ("external memory pressure"): at loopback speed about ten times a second. A
 * mark-compact costs time in proportion to the live heap, so a proxy with a real program in its heap
 * (config schemas, metrics, logger) pays several times what a bare `pipe()` forwarder pays:
 * Sightline ran at ~0.55x the naive forwarder's bytes per CPU-second on Node 24. The old remedy,
 * `node --initial-old-space-size=64`, is a command-line flag a library cannot set, and on Node 24 it
 * no longer stops these collections.
 *
 * What: while a proxy runs, an unref'd interval reads V8's external-memory figure and, once it has
 * grown by `stepBytes` since the last collection, runs a minor GC (a scavenge: the dead buffers are
 * freed and, as almost everything young is garbage, it takes well under a millisecond). External
 * memory then stays far below V8's trigger, so buffer churn causes no mark-compact at all. When
 * nothing flows the tick is one `v8.getHeapStatistics()` call (~2 µs) every 20 ms.
 *
 * The second half: V8 sizes the old generation's next marking threshold from how busy the
 * collector was (a growing factor between ~1.1 and 4). Once a few mark-compacts have run during a
 * transfer the factor drops, the threshold sits a few MB above a 13 MB heap, the new space alone
 * fills that, and marking restarts every few tens of ms: a storm that keeps itself going (seen in
 * half the runs with the pacer alone). While a proxy runs, the heap growing factor is therefore
 * held at 4, V8's own maximum (`--heap-growing-percent=300`; V8 reads it at every collection), and
 * given back to V8's heuristics when the last proxy stops. Not when the process was started with
 * its own `--heap-growing-percent`.
 *
 * The collector function: `globalThis.gc` when node runs with `--expose-gc`; otherwise one taken
 * from a fresh `vm` context while `--expose-gc` is switched on for that moment (what Jest does for
 * `--logHeapUsage`). The caller's global scope is never touched.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

type GcFn = (options: { type: 'minor' | 'major' }) => void;

export interface BufferGcOptions {
  /** External-memory growth that triggers a minor GC (V8 itself reacts at 64 MB). */
  readonly stepBytes?: number;
  /** How often to look; at 10 Gbit/s about 25 MB arrive per 20 ms. */
  readonly tickMs?: number;
  /** The collector (tests inject one); default: see the file comment. */
  readonly gc?: GcFn | null;
  /** Current external memory in bytes (tests inject one). */
  readonly externalMemory?: () => number;
}

export const BUFFER_GC_STEP_BYTES = 16 * 1024 * 1024;
export const BUFFER_GC_TICK_MS = 20;

const v8ExternalMemory = (): number => v8.getHeapStatistics().external_memory;

/** A minor-GC function, or null where the runtime refuses one (then the pacer does nothing). */
function minorGcFunction(): GcFn | null {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as GcFn;
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn: unknown = vm.runInNewContext('gc');
    return typeof fn === 'function' ? (fn as GcFn) : null;
  } catch {
    return null;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

/** Paces minor GCs by external-memory growth. `tick()` is public so tests can drive it. */
export class BufferGc {
  readonly stepBytes: number;
  readonly tickMs: number;
  readonly #gc: GcFn | null;
  readonly #external: () => number;
  #base: number;
  #interval: NodeJS.Timeout | null = null;
  /** Minor GCs run so far (tests, diagnostics). */
  collections = 0;

  constructor(options: BufferGcOptions = {}) {
    this.stepBytes = options.stepBytes ?? BUFFER_GC_STEP_BYTES;
    this.tickMs = options.tickMs ?? BUFFER_GC_TICK_MS;
    this.#gc = options.gc === undefined ? minorGcFunction() : options.gc;
    this.#external = options.externalMemory ?? v8ExternalMemory;
    this.#base = this.#external();
  }

  get active(): boolean {
    return this.#interval !== null;
  }

  tick(): void {
    const now = this.#external();
    if (now - this.#base >= this.stepBytes && this.#gc !== null) {
      this.#gc({ type: 'minor' });
      this.collections++;
      this.#base = this.#external();
    } else if (now < this.#base) {
      // Freed by a collection V8 ran itself: measure growth from the new low.
      this.#base = now;
    }
  }

  start(): void {
    if (this.#interval !== null || this.#gc === null) return;
    this.#base = this.#external();
    this.#interval = setInterval(() => this.tick(), this.tickMs);
    this.#interval.unref();
  }

  stop(): void {
    if (this.#interval !== null) clearInterval(this.#interval);
    this.#interval = null;
  }
}

/** V8's largest growing factor (4), as `--heap-growing-percent` says it; 0 gives V8 back its heuristics. */
export const HELD_HEAP_GROWING_PERCENT = 300;

/** The user chose a growing factor on the command line or in NODE_OPTIONS: leave it alone. */
const userGrowing = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) =>
  /heap[-_]growing[-_]percent/.test(a),
);

function holdHeapGrowth(hold: boolean): void {
  if (userGrowing) return;
  v8.setFlagsFromString(`--heap-growing-percent=${hold ? HELD_HEAP_GROWING_PERCENT : 0}`);
}

/** The process's one pacer: every started proxy holds it, the last release stops it. */
let shared: BufferGc | null = null;
let holders = 0;

/** Start (or join) the process-wide pacer and growth hold; call the returned function once to release it. */
export function holdBufferGc(): () => void {
  shared ??= new BufferGc();
  if (holders === 0) holdHeapGrowth(true);
  holders++;
  shared.start();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holders--;
    if (holders === 0) {
      shared?.stop();
      holdHeapGrowth(false);
    }
  };
}

/** The process-wide pacer, if any proxy has started one (tests, diagnostics). */
export function sharedBufferGc(): BufferGc | null {
  return shared;
}
