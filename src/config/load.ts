/**
 * Reads a YAML or JSON configuration file, reports syntax errors with file, line and column
 * (`SL_ERR_CONFIG_READ`), resolves certificate file paths against the file's directory, then
 * validates (`SL_ERR_CONFIG_INVALID`, via validateOptions). Every error is one line that starts
 * with the file name. Parsing is bounded: a file larger than MAX_CONFIG_BYTES is refused before it
 * is read, and nesting deeper than MAX_CONFIG_DEPTH is refused before the parser recurses into it
 * (a 50 MB or a million-bracket file is an error within milliseconds, not an out-of-memory abort).
 */
import { open } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { SightlineError } from '../core/errors.js';
import { formatPath } from './issues.js';
import { rememberConfigHash } from './config-hash.js';
import type { ResolvedOptions } from './schema.js';
import { validateOptions } from './validate.js';

/** Keys whose string values are file paths, relative to the config file's directory. */
const FILE_PATH_KEYS: ReadonlySet<string> = new Set(['certFile', 'keyFile', 'caFile']);

/** A real configuration is a few KiB; 4 MiB leaves room for thousands of routes. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** The schema nests 7 levels deep (routes[0].match.ports[0].from); 32 leaves room for YAML anchors and comments, not for abuse. */
export const MAX_CONFIG_DEPTH = 32;

function readError(path: string, detail: string, cause?: unknown): SightlineError {
  return new SightlineError('SL_ERR_CONFIG_READ', `${path}: ${detail}`, cause === undefined ? undefined : { cause });
}

/** 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const lastNewline = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: offset - lastNewline };
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const lc = /\(line (\d+) column (\d+)\)/.exec(message);
    const pos = /at position (\d+)/.exec(message);
    const where = lc
      ? { line: Number(lc[1]), column: Number(lc[2]) }
      : pos
        ? lineColumn(text, Number(pos[1]))
        : undefined;
    const reason = message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/\s*in JSON at position \d+/, '');
    const at = where ? ` at line ${where.line}, column ${where.column}` : '';
    throw readError(path, `JSON syntax error${at}: ${reason}`, err);
  }
}

/** `near "<the offending line>"`, cut to 60 characters, for one-line messages. */
function near(text: string, line: number): string {
  const source = text.split('\n', line)[line - 1]?.trim();
  return source ? ` (near ${JSON.stringify(source.length > 60 ? `${source.slice(0, 60)}…` : source)})` : '';
}

async function parseYaml(text: string, path: string): Promise<unknown> {
  // Loaded on first use: a library user who never reads a file never pays its heap (see the
  // throughput note in bench/README.md: a proxy's live heap decides how often V8 marks it).
  const yaml = await import('yaml');
  const lines = new yaml.LineCounter();
  // yaml's own duplicate-key check compares every key with every earlier one (20 000 keys took
  // 40 s); the linear check below replaces it.
  const doc = yaml.parseDocument(text, { prettyErrors: true, uniqueKeys: false, lineCounter: lines });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const [headline = first.message] = first.message.split('\n');
    const at = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    if (/Maximum call stack/i.test(headline))
      throw readError(path, `nesting too deep to parse${at} (at most ${MAX_CONFIG_DEPTH} levels)`, first);
    const reason = headline.replace(/ at line \d+, column \d+:?$/, '');
    // One line: the offending source line is quoted instead of yaml's multi-line snippet.
    throw readError(path, `YAML syntax error${at}: ${reason}${pos ? near(text, pos.line) : ''}`, first);
  }
  // Duplicate keys, one pass over the document (an explicit stack: no recursion on nesting).
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (yaml.isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = pair.key;
        if (yaml.isScalar(key)) {
          if (seen.has(key.value)) {
            const pos = lines.linePos(key.range?.[0] ?? 0);
            throw readError(
              path,
              `YAML syntax error at line ${pos.line}, column ${pos.col}: Map keys must be unique${near(text, pos.line)}`,
            );
          }
          seen.add(key.value);
        }
        stack.push(pair.value);
      }
    } else if (yaml.isSeq(node)) stack.push(...node.items);
  }
  return doc.toJS();
}

/** Characters after which a quote starts a quoted scalar (elsewhere, as in `it's`, it is text). */
const QUOTE_OPENERS = new Set([10, 58, 45, 91, 123, 44, 63]); // newline : - [ { , ?

/**
 * The deepest bracket nesting of flow collections (`[`, `{`) outside quoted strings and comments,
 * stopping early past `limit`. A linear scan that runs before the (recursive) parsers see the text.
 */
export function flowDepth(text: string, limit: number): { depth: number; line: number } {
  let depth = 0;
  let line = 1;
  let quote = 0;
  let comment = false;
  let last = 10; // the last character that was not a space or tab
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10) {
      line++;
      comment = false;
      if (quote === 0) last = 10;
      continue;
    }
    if (comment) continue;
    if (quote !== 0) {
      if (ch === 92 && quote === 34)
        i++; // backslash escape inside "..."
      else if (ch === quote) {
        quote = 0;
        last = ch;
      }
      continue;
    }
    if (ch === 32 || ch === 9) continue;
    if ((ch === 34 || ch === 39) && QUOTE_OPENERS.has(last)) quote = ch;
    else if (ch === 35 && (i === 0 || text.charCodeAt(i - 1) <= 32))
      comment = true; // '#' starts a YAML comment
    else if (ch === 91 || ch === 123) {
      if (++depth > limit) return { depth, line };
    } else if (ch === 93 || ch === 125) depth = Math.max(0, depth - 1);
    last = ch;
  }
  return { depth: 0, line };
}

/** The first place where parsed data nests deeper than `limit` (block YAML nests by indentation). */
function tooDeep(data: unknown, limit: number): readonly PropertyKey[] | null {
  const stack: Array<{ value: unknown; path: PropertyKey[] }> = [{ value: data, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= limit) return path;
    const entries: Array<[PropertyKey, unknown]> = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.entries(value);
    for (const [k, v] of entries) stack.push({ value: v, path: [...path, k] });
  }
  return null;
}

/** Parses configuration text: JSON.parse for `.json` files (precise errors), YAML otherwise. */
export async function parseConfigText(text: string, path: string): Promise<unknown> {
  if (text.trim() === '') throw readError(path, 'the file is empty');
  const flow = flowDepth(text, MAX_CONFIG_DEPTH);
  if (flow.depth > MAX_CONFIG_DEPTH)
    throw readError(path, `nesting deeper than ${MAX_CONFIG_DEPTH} levels at line ${flow.line} (brackets)`);
  let data: unknown;
  try {
    data = extname(path).toLowerCase() === '.json' ? parseJson(text, path) : await parseYaml(text, path);
  } catch (err) {
    // Block nesting so deep that a parser recursed out of stack: still one line naming the file.
    if (err instanceof RangeError)
      throw readError(path, `nesting too deep to parse (more than ${MAX_CONFIG_DEPTH} levels allowed)`, err);
    throw err;
  }
  const deep = tooDeep(data, MAX_CONFIG_DEPTH);
  if (deep !== null) throw readError(path, `${formatPath(deep)}: nesting deeper than ${MAX_CONFIG_DEPTH} levels`);
  return data;
}

/** Returns `data` with relative certFile/keyFile/caFile values made absolute against `baseDir`. */
export function resolveFilePaths(data: unknown, baseDir: string): unknown {
  if (Array.isArray(data)) return data.map((item) => resolveFilePaths(item, baseDir));
  if (data === null || typeof data !== 'object') return data;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    out[key] =
      FILE_PATH_KEYS.has(key) && typeof value === 'string' && value !== '' && !isAbsolute(value)
        ? resolve(baseDir, value)
        : resolveFilePaths(value, baseDir);
  }
  return out;
}

/** The file's text, refused unread when larger than MAX_CONFIG_BYTES (also for /dev/zero-like files). */
async function readBounded(path: string): Promise<string> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, 'r');
    const st = await fh.stat();
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st.size > MAX_CONFIG_BYTES)
      throw readError(path, `the file is ${st.size} bytes; a configuration may be at most ${MAX_CONFIG_BYTES} bytes`);
    // Read one byte past the cap: a file that grows, or a device that reports size 0, is caught too.
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > MAX_CONFIG_BYTES)
        throw readError(path, `the file is larger than ${MAX_CONFIG_BYTES} bytes, the most a configuration may be`);
    }
    return buf.toString('utf8', 0, n);
  } catch (err) {
    if (err instanceof SightlineError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const detail =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (err as Error).message;
    throw readError(path, `cannot read the file (${detail})`, err);
  } finally {
    await fh?.close();
  }
}

/**
 * Loads, parses and validates a configuration file (YAML, or JSON for `.json`). `defaults` are
 * top-level sections used when the file has none.
 * @throws SightlineError `SL_ERR_CONFIG_READ` (unreadable file, syntax error with line/column)
 * @throws ConfigError `SL_ERR_CONFIG_INVALID` (schema violations, with key paths)
 */
export async function loadConfigFile(
  path: string,
  defaults?: Readonly<Record<string, unknown>>,
): Promise<ResolvedOptions> {
  const text = await readBounded(path);
  let data = await parseConfigText(text, path);
  if (defaults !== undefined && data !== null && typeof data === 'object' && !Array.isArray(data)) {
    // Top-level sections a caller adds when the file leaves them out (the CLI: `admin: {}`).
    data = { ...defaults, ...(data as Record<string, unknown>) };
  }
  return rememberConfigHash(validateOptions(resolveFilePaths(data, dirname(resolve(path))), path), text);
}
