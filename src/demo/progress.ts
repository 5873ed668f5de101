/**
 * One progress line: rewritten in place (\r, clear to end of line) on a terminal, at most once a
 * second; printed as plain lines at most every `plainEveryMs` (5 s) when stdout is a pipe or file,
 * so logs and tests read a short history instead of a wall of carriage returns.
 */
export interface DemoOutput {
  write(s: string): unknown;
  readonly isTTY?: boolean;
}

export class ProgressLine {
  readonly #out: DemoOutput;
  readonly #tty: boolean;
  readonly #everyMs: number;
  #last = -Infinity;
  #showing = false;

  constructor(out: DemoOutput, plainEveryMs = 5000) {
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#everyMs = this.#tty ? 1000 : plainEveryMs;
  }

  /** Show `text` now if the last update is old enough (or `force`). */
  update(text: string, now: number, force = false): void {
    if (!force && now - this.#last < this.#everyMs) return;
    this.#last = now;
    if (this.#tty) {
      this.#out.write(`\r${text}\x1b[K`);
      this.#showing = true;
    } else this.#out.write(`${text}\n`);
  }

  /** End the in-place line (before printing anything else). */
  done(): void {
    if (this.#showing) this.#out.write('\n');
    this.#showing = false;
  }
}
