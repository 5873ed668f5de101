/**
 * Reads a YAML or JSON configuration file, reports syntax errors with file, line and column
 * (`SL_ERR_CONFIG_READ`), resolves certificate file paths against the file's directory, then
 * validates (`SL_ERR_CONFIG_INVALID`, via validateOptions).
 */
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { SightlineError } from '../core/errors.js';
import type { ResolvedOptions } from './schema.js';
import { validateOptions } from './validate.js';

/** Keys whose string values are file paths, relative to the config file's directory. */
const FILE_PATH_KEYS: ReadonlySet<string> = new Set(['certFile', 'keyFile', 'caFile']);

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
    const where = lc ? { line: Number(lc[1]), column: Number(lc[2]) } : pos ? lineColumn(text, Number(pos[1])) : undefined;
    const reason = message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/\s*in JSON at position \d+/, '');
    const at = where ? ` at line ${where.line}, column ${where.column}` : '';
    throw readError(path, `JSON syntax error${at}: ${reason}`, err);
  }
}

async function parseYaml(text: string, path: string): Promise<unknown> {
  // Loaded on first use: a library user who never reads a file never pays its heap (see the
  // throughput note in bench/README.md: a proxy's live heap decides how often V8 marks it).
  const { parseDocument } = await import('yaml');
  const doc = parseDocument(text, { prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const [headline = first.message, ...context] = first.message.split('\n');
    const reason = headline.replace(/ at line \d+, column \d+:?$/, '');
    const at = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    const snippet = context.join('\n').trimEnd();
    throw readError(path, `YAML syntax error${at}: ${reason}${snippet ? `\n${snippet}` : ''}`, first);
  }
  return doc.toJS();
}

/** Parses configuration text: JSON.parse for `.json` files (precise errors), YAML otherwise. */
export async function parseConfigText(text: string, path: string): Promise<unknown> {
  if (text.trim() === '') throw readError(path, 'the file is empty');
  return extname(path).toLowerCase() === '.json' ? parseJson(text, path) : parseYaml(text, path);
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

/**
 * Loads, parses and validates a configuration file (YAML, or JSON for `.json`).
 * @throws SightlineError `SL_ERR_CONFIG_READ` (unreadable file, syntax error with line/column)
 * @throws ConfigError `SL_ERR_CONFIG_INVALID` (schema violations, with key paths)
 */
export async function loadConfigFile(path: string): Promise<ResolvedOptions> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const detail = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw readError(path, `cannot read the file (${detail})`, err);
  }
  const data = await parseConfigText(text, path);
  return validateOptions(resolveFilePaths(data, dirname(resolve(path))), path);
}
