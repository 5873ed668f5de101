/**
 * `match.domains`: exact names and `*` wildcards, case-insensitive, trailing dot ignored. `*`
 * matches any run of characters (`*.example.com`, `example.*`, `*`). A connection with no name
 * (no SNI, no Host) never matches a route that lists domains.
 */
import { globRegExp } from './glob.js';

export function normalizeHost(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

export class DomainMatcher {
  readonly #exact = new Set<string>();
  readonly #wild: RegExp[] = [];
  readonly #any: boolean;

  constructor(patterns: readonly string[]) {
    let any = false;
    for (const raw of patterns) {
      const p = normalizeHost(raw.trim());
      if (p === '*') any = true;
      else if (p.includes('*')) this.#wild.push(globRegExp(p));
      else this.#exact.add(p);
    }
    this.#any = any;
  }

  /** `name` must already be normalised with `normalizeHost`. */
  matches(name: string | null): boolean {
    if (name === null || name === '') return false;
    if (this.#any || this.#exact.has(name)) return true;
    for (const w of this.#wild) if (w.test(name)) return true;
    return false;
  }
}
