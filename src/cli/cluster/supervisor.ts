/**
 * The primary's workers: forks them (node:cluster), restarts a crashed one with exponential
 * back-off, counts the restarts, routes their messages, and asks them all a question at once.
 * A worker that dies takes its connections with it: the open counts of its last batch are
 * handed to `onLost` so the primary can record those closes.
 */
import cluster, { type Worker } from 'node:cluster';
import { isMessage, type Ask, type FromWorker, type ReloadResult, type ToWorker } from './messages.js';
import type { CloseSample } from '../../telemetry/pattern-types.js';
import type { Answer } from './merge.js';

/** First restart after 100 ms, doubling per crash in a row, at most 10 s apart. */
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** A worker that lived this long ends a crash streak. */
const STABLE_MS = 10_000;
/** A worker that does not answer within this is left out of the merged answer. */
const ASK_TIMEOUT_MS = 2_000;

interface Slot {
  readonly index: number;
  worker: Worker | null;
  ready: boolean;
  startedAt: number;
  streak: number;
  restarts: number;
  /** Open connections per route in the worker's last batch. */
  open: Readonly<Record<string, number>>;
  restartTimer: NodeJS.Timeout | null;
}

export interface SupervisorEvents {
  /** Every worker listens (first start). */
  ready(ports: readonly number[]): void;
  /** A worker could not start (bad configuration, a port taken): give up. */
  fatal(slot: number, error: string): void;
  /** A batch of closes for the pattern detector. */
  closes(samples: readonly CloseSample[]): void;
  /** A worker died unexpectedly; `open` is what it held in its last batch. */
  lost(
    slot: number,
    pid: number | undefined,
    why: string,
    open: Readonly<Record<string, number>>,
    restartInMs: number,
  ): void;
}

export class Supervisor {
  readonly #slots: Slot[];
  readonly #on: SupervisorEvents;
  readonly #pending = new Map<number, (m: FromWorker) => void>();
  #nextId = 1;
  #stopping = false;
  #announced = false;

  readonly #exec: string;
  readonly #execArgv: readonly string[];
  readonly #config: () => string;

  /** `config`: the configuration file a worker about to start loads. */
  constructor(count: number, exec: string, config: () => string, execArgv: readonly string[], on: SupervisorEvents) {
    this.#exec = exec;
    this.#execArgv = execArgv;
    this.#config = config;
    this.#on = on;
    this.#slots = Array.from({ length: count }, (_, index) => ({
      index,
      worker: null,
      ready: false,
      startedAt: 0,
      streak: 0,
      restarts: 0,
      open: {},
      restartTimer: null,
    }));
    for (const s of this.#slots) this.#fork(s);
  }

  get size(): number {
    return this.#slots.length;
  }
  get readyCount(): number {
    return this.#slots.filter((s) => s.ready).length;
  }
  get restarts(): number {
    return this.#slots.reduce((n, s) => n + s.restarts, 0);
  }
  /** Per worker: slot, pid, listening, restarts. */
  describe(): Array<{ worker: number; pid: number | null; ready: boolean; restarts: number }> {
    return this.#slots.map((s) => ({
      worker: s.index,
      pid: s.worker?.process.pid ?? null,
      ready: s.ready,
      restarts: s.restarts,
    }));
  }

  #fork(s: Slot): void {
    s.restartTimer = null;
    s.ready = false;
    s.startedAt = Date.now();
    s.open = {};
    let file: string;
    try {
      file = this.#config();
    } catch (err) {
      this.#on.fatal(s.index, err instanceof Error ? err.message : String(err));
      return;
    }
    cluster.setupPrimary({ exec: this.#exec, args: [file], execArgv: [...this.#execArgv] });
    const w = cluster.fork({ SIGHTLINE_WORKER: String(s.index) });
    s.worker = w;
    w.on('message', (m: unknown) => {
      if (isMessage(m)) this.#message(s, m as FromWorker);
    });
    w.on('error', () => {}); // a send to a dying worker; its 'exit' follows
    w.on('exit', (code, signal) => this.#exit(s, w, code, signal));
  }

  #message(s: Slot, m: FromWorker): void {
    switch (m.t) {
      case 'ready':
        s.ready = true;
        if (!this.#announced && this.readyCount === this.#slots.length) {
          this.#announced = true;
          this.#on.ready(m.ports);
        }
        return;
      case 'fatal':
        this.#on.fatal(s.index, m.error);
        return;
      case 'closes':
        s.open = m.open;
        if (m.samples.length > 0) this.#on.closes(m.samples);
        return;
      case 'answer':
      case 'reloaded': {
        const done = this.#pending.get(m.id);
        if (done !== undefined) done(m);
        return;
      }
    }
  }

  #exit(s: Slot, w: Worker, code: number | null, signal: string | null): void {
    if (s.worker !== w) return;
    s.worker = null;
    s.ready = false;
    if (this.#stopping) return;
    const lived = Date.now() - s.startedAt;
    s.streak = lived >= STABLE_MS ? 1 : s.streak + 1;
    s.restarts++;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (s.streak - 1));
    this.#on.lost(
      s.index,
      w.process.pid,
      signal !== null ? `signal ${signal}` : `exit code ${code ?? '?'}`,
      s.open,
      delay,
    );
    s.open = {};
    s.restartTimer = setTimeout(() => this.#fork(s), delay);
  }

  /** Send to one worker and wait for its reply (null on timeout or when it is gone). */
  #request(s: Slot, make: (id: number) => ToWorker, timeoutMs: number): Promise<FromWorker | null> {
    const w = s.worker;
    if (w === null || !s.ready || !w.isConnected()) return Promise.resolve(null);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#pending.delete(id);
        resolve(null);
      }, timeoutMs);
      this.#pending.set(id, (m) => {
        clearTimeout(t);
        this.#pending.delete(id);
        resolve(m);
      });
      w.send(make(id), undefined, (err: Error | null) => {
        if (err !== null) this.#pending.get(id)?.({ t: 'answer', id, body: null });
      });
    });
  }

  /** Ask every listening worker; the answers that came back in time, with their slots. */
  async ask<T>(what: Ask, query?: unknown): Promise<Array<Answer<T>>> {
    const replies = await Promise.all(
      this.#slots.map(async (s) => {
        const r = await this.#request(
          s,
          (id) => ({ t: 'ask', id, what, ...(query === undefined ? {} : { query }) }),
          ASK_TIMEOUT_MS,
        );
        return r?.t === 'answer' && r.body !== null ? { worker: s.index, body: r.body as T } : null;
      }),
    );
    return replies.filter((r): r is Answer<T> => r !== null);
  }

  /** Tell every worker (or `only` these) to reload `file`; one result each (a worker that is down fails). */
  async reload(
    file: string,
    timeoutMs: number,
    only?: ReadonlySet<number>,
  ): Promise<Array<{ worker: number; result: ReloadResult }>> {
    return Promise.all(
      this.#slots
        .filter((s) => only === undefined || only.has(s.index))
        .map(async (s) => {
          const r = await this.#request(s, (id) => ({ t: 'reload', id, file }), timeoutMs);
          const result: ReloadResult =
            r?.t === 'reloaded'
              ? r.result
              : { ok: false, error: s.worker === null ? 'worker not running (restarting)' : 'no answer' };
          return { worker: s.index, result };
        }),
    );
  }

  /** Drain every worker; resolves when all exited (the rest are killed at `deadlineMs`). */
  async stop(deadlineMs: number): Promise<void> {
    this.#stopping = true;
    const exits: Array<Promise<void>> = [];
    for (const s of this.#slots) {
      if (s.restartTimer !== null) clearTimeout(s.restartTimer);
      const w = s.worker;
      if (w === null) continue;
      exits.push(new Promise((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
      if (w.isConnected()) w.send({ t: 'drain' } satisfies ToWorker, undefined, () => {});
      else w.process.kill('SIGTERM');
    }
    const kill = setTimeout(() => {
      for (const s of this.#slots) if (s.worker !== null && !s.worker.isDead()) s.worker.process.kill('SIGKILL');
    }, deadlineMs);
    await Promise.all(exits);
    clearTimeout(kill);
  }
}
