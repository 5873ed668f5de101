/**
 * Turns zod issues into readable configuration issues: plain-English messages (an error map used
 * at parse time), unions explained by the option the input was closest to, one issue per unknown
 * key (the hint is added by hints.ts, which knows the schema).
 */
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

/** One problem before path formatting; `unknownKeyOf` is the object path of an unknown key. */
export interface DraftIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly unknownKeyOf?: readonly PropertyKey[];
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `['routes', 0, 'match', 'ports']` → `routes[0].match.ports`; the root is `''`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** A short description of a value the user wrote, for "got ..." tails. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'function':
      return 'a function';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  record: 'an object',
  function: 'a function',
};

function bound(origin: string, value: number | bigint, inclusive: boolean | undefined, small: boolean): string {
  const n = Number(value);
  switch (origin) {
    case 'array':
    case 'set':
      return small
        ? `must list at least ${n} item${n === 1 ? '' : 's'}`
        : `must list at most ${n} item${n === 1 ? '' : 's'}`;
    case 'string':
      return small
        ? n === 1
          ? 'must not be empty'
          : `must be at least ${n} characters`
        : `must be at most ${n} characters`;
    default:
      if (small) return inclusive === false ? `must be greater than ${n}` : `must be at least ${n}`;
      return inclusive === false ? `must be less than ${n}` : `must be at most ${n}`;
  }
}

/** Error map passed to `safeParse`: used wherever the schema did not set its own message. */
export const configErrorMap: z.core.$ZodErrorMap = (iss: RawIssue) => {
  switch (iss.code) {
    case 'invalid_type': {
      const expected = EXPECTED[iss.expected] ?? iss.expected;
      if (iss.input === undefined) return `required: expected ${expected}`;
      return `expected ${expected}, got ${describeValue(iss.input)}`;
    }
    case 'invalid_value':
      return `expected ${iss.values.length > 1 ? 'one of ' : ''}${iss.values.map((v) => describeValue(v)).join(', ')}; got ${describeValue(iss.input)}`;
    case 'too_small':
      return bound(iss.origin, iss.minimum, iss.inclusive, true);
    case 'too_big':
      return bound(iss.origin, iss.maximum, iss.inclusive, false);
    default:
      return undefined;
  }
};

/** True when the issue says "the value is not even of this option's kind". */
function isRootMismatch(iss: Issue): boolean {
  if (iss.path.length !== 0) return false;
  switch (iss.code) {
    case 'invalid_type':
      // `expected: 'int'` means a number that is not whole: the right kind, a wrong value
      return iss.expected !== 'int';
    case 'invalid_value':
      return true;
    case 'custom':
      return iss.params?.['typeMismatch'] === true;
    case 'invalid_union':
      return iss.errors.every((option) => option.some(isRootMismatch));
    default:
      return false;
  }
}

function weight(option: readonly Issue[]): number {
  return option.reduce((sum, iss) => sum + (iss.code === 'unrecognized_keys' ? iss.keys.length : 1), 0);
}

/**
 * The issues of the union option the input came closest to (right kind of value, fewest problems),
 * or undefined when no option stands out and the union's own message should be shown.
 */
function closestOption(iss: Extract<Issue, { code: 'invalid_union' }>): readonly Issue[] | undefined {
  const viable = iss.errors.filter((option) => option.length > 0 && !option.some(isRootMismatch));
  if (viable.length === 0) return undefined;
  const weights = viable.map(weight);
  const best = Math.min(...weights);
  if (weights.filter((w) => w === best).length > 1) return undefined;
  return viable[weights.indexOf(best)];
}

function unionMessage(iss: Issue): string {
  if (!('input' in iss)) return iss.message;
  if (iss.input === undefined) return `required: ${iss.message}`;
  return `${iss.message}; got ${describeValue(iss.input)}`;
}

/** Flattens zod issues (paths relative to `base`) into draft config issues. */
export function flattenIssues(
  issues: readonly Issue[],
  base: readonly PropertyKey[],
  out: DraftIssue[] = [],
): DraftIssue[] {
  for (const iss of issues) {
    const path = [...base, ...iss.path];
    if (iss.code === 'unrecognized_keys') {
      for (const key of iss.keys)
        out.push({ path: [...path, key], message: `unknown key "${key}"`, unknownKeyOf: path });
    } else if (iss.code === 'invalid_union') {
      const option = closestOption(iss);
      if (option) flattenIssues(option, path, out);
      else out.push({ path, message: unionMessage(iss) });
    } else {
      out.push({ path, message: iss.message });
    }
  }
  return out;
}
