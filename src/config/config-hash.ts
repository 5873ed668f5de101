/**
 * A short content hash of the configuration file a ResolvedOptions was loaded from (issue 14:
 * the reload events and the admin status name the generation and the file it came from, so two
 * workers or two hosts can be compared by eye). Only files have one: options built in code do
 * not. Certificates named by path are not part of it (their bytes are not in the file).
 */
import { createHash } from 'node:crypto';
import type { ResolvedOptions } from './schema.js';

const hashes = new WeakMap<ResolvedOptions, string>();

/** The first 12 hex digits of the SHA-256 of the file's bytes: enough to tell versions apart. */
export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** Remember which file text `options` came from (config/load.ts). */
export function rememberConfigHash(options: ResolvedOptions, text: string): ResolvedOptions {
  hashes.set(options, contentHash(text));
  return options;
}

/** `to` (a copy of `from` with a few keys changed) names the same file as `from`. */
export function inheritConfigHash<T extends object>(from: ResolvedOptions, to: T): T {
  const h = hashes.get(from);
  if (h !== undefined) hashes.set(to as unknown as ResolvedOptions, h);
  return to;
}

/** The content hash of the file `options` was loaded from, null for options built in code. */
export function configHashOf(options: object): string | null {
  return hashes.get(options as ResolvedOptions) ?? null;
}
