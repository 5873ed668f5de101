/**
 * Validate once, freeze (DESIGN §2.7): options in, fully defaulted deep-frozen options out, or one
 * ConfigError listing every problem with its key path and, for unknown keys, a hint.
 */
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../core/errors.js';
import { validKeysAt, unknownKeyHint } from './hints.js';
import { configErrorMap, flattenIssues, formatPath } from './issues.js';
import { optionsSchema, routesSchema, type ResolvedOptions, type ResolvedRoute } from './schema.js';
import { readAdminToken } from './admin-token.js';
import { loadTlsMaterial } from './tls-material.js';

/** Freezes plain objects and arrays all the way down; functions and binary data are left alone. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  return value;
}

/** A file with thousands of unknown keys gets the first few explained and a count of the rest. */
const MAX_ISSUES = 20;

function toConfigIssues(
  schema: z.core.$ZodType,
  issues: readonly z.core.$ZodIssue[],
  base: readonly PropertyKey[],
): ConfigIssue[] {
  const drafts = flattenIssues(issues, base);
  const shown = drafts.slice(0, MAX_ISSUES).map((draft): ConfigIssue => {
    const path = formatPath(draft.path);
    if (draft.unknownKeyOf === undefined) return { path, message: draft.message };
    const key = String(draft.path[draft.path.length - 1]);
    const hint = unknownKeyHint(key, validKeysAt(schema, draft.unknownKeyOf.slice(base.length)));
    return { path, message: draft.message, hint };
  });
  if (drafts.length > MAX_ISSUES)
    shown.push({ path: '', message: `and ${drafts.length - MAX_ISSUES} more problems (fix these first)` });
  return shown;
}

const PARSE_PARAMS = { error: configErrorMap, reportInput: true } as const;

/**
 * Validates a whole options object (library options, or the data of a YAML/JSON file) and returns
 * it with every default filled in, every route named (`route-<index>` when unnamed), deep-frozen;
 * TLS files are read and checked here (tls-material.ts).
 * @param source names the origin (a file path) in the error message.
 * @throws ConfigError (`SL_ERR_CONFIG_INVALID`) listing every issue.
 */
export function validateOptions(input: unknown, source?: string): ResolvedOptions {
  const result = optionsSchema.safeParse(input, PARSE_PARAMS);
  if (!result.success) throw new ConfigError(toConfigIssues(optionsSchema, result.error.issues, []), source);
  // Certificates, keys and CAs are read and checked now, never on the data path.
  const issues = loadTlsMaterial(result.data.routes, ['routes']);
  const admin = result.data.admin;
  if (admin?.tokenFile !== undefined) {
    const r = readAdminToken(admin.tokenFile);
    if ('issue' in r) issues.push(r.issue);
    else admin.token = r.token;
  }
  if (issues.length > 0) throw new ConfigError(issues, source);
  return deepFreeze(result.data);
}

/**
 * Validates a route list on its own (for `updateRoutes`). Issue paths start with `routes[...]` as
 * they would in a whole options object.
 * @throws ConfigError (`SL_ERR_CONFIG_INVALID`) listing every issue.
 */
export function validateRoutes(routes: unknown): ResolvedRoute[] {
  const result = routesSchema.safeParse(routes, PARSE_PARAMS);
  if (!result.success) throw new ConfigError(toConfigIssues(routesSchema, result.error.issues, ['routes']));
  const tlsIssues = loadTlsMaterial(result.data, ['routes']);
  if (tlsIssues.length > 0) throw new ConfigError(tlsIssues);
  return deepFreeze(result.data);
}
