/**
 * "did you mean ...?" for unknown configuration keys: finds the keys the schema allows at a path
 * (walking through optional/default/union/array/record wrappers) and the nearest one by edit
 * distance.
 */
import type { z } from 'zod';

type Schema = z.core.$ZodType;

/** The parts of zod's internal definitions this walk needs. */
interface LooseDef {
  readonly type: string;
  readonly innerType?: Schema;
  readonly in?: Schema;
  readonly options?: readonly Schema[];
  readonly shape?: Readonly<Record<string, Schema>>;
  readonly element?: Schema;
  readonly valueType?: Schema;
}

const defOf = (schema: Schema): LooseDef => schema._zod.def as unknown as LooseDef;

function collectKeys(schema: Schema, path: readonly PropertyKey[], out: Set<string>, depth: number): void {
  if (depth > 64) return;
  const def = defOf(schema);
  const next = (s: Schema | undefined, rest: readonly PropertyKey[]): void => {
    if (s) collectKeys(s, rest, out, depth + 1);
  };
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      next(def.innerType, path);
      return;
    case 'pipe':
      next(def.in, path);
      return;
    case 'union':
      for (const option of def.options ?? []) next(option, path);
      return;
    case 'object': {
      const shape = def.shape ?? {};
      const [head, ...rest] = path;
      if (head === undefined) for (const key of Object.keys(shape)) out.add(key);
      else if (typeof head === 'string' && Object.hasOwn(shape, head)) next(shape[head], rest);
      return;
    }
    case 'array':
      if (typeof path[0] === 'number') next(def.element, path.slice(1));
      return;
    case 'record':
      if (path.length > 0) next(def.valueType, path.slice(1));
      return;
    default:
      return;
  }
}

/** Keys the schema accepts for the object at `path` (union members contribute all their keys). */
export function validKeysAt(schema: Schema, path: readonly PropertyKey[]): string[] {
  const out = new Set<string>();
  collectKeys(schema, path, out, 0);
  return [...out];
}

/**
 * Edit distance: Levenshtein plus adjacent transpositions (optimal string alignment), so the most
 * common typo, swapped letters (`domian`), costs 1. Case-insensitive: `Domains` ≈ `domains`.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let before: number[] = [];
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, (before[j - 2] ?? 0) + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[t.length] ?? 0;
}

const MAX_LISTED = 8;

/** `did you mean "X"?` when a valid key is close enough, else a short list of the valid keys. */
export function unknownKeyHint(key: string, validKeys: readonly string[]): string | undefined {
  if (validKeys.length === 0) return undefined;
  const limit = Math.max(2, Math.floor(key.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of validKeys) {
    const d = editDistance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best !== undefined && bestDistance <= limit) return `did you mean "${best}"?`;
  const listed = validKeys.slice(0, MAX_LISTED).join(', ');
  return `valid keys: ${listed}${validKeys.length > MAX_LISTED ? `, … (${validKeys.length - MAX_LISTED} more)` : ''}`;
}
