/**
 * SIGHUP for the cluster: all workers or none. The primary validates the file first (a bad file
 * changes nothing). A worker can still fail to apply a valid file (a new port taken): then the
 * workers that did apply it are rolled back to the last configuration every worker ran, written
 * beside the original (so relative certificate paths resolve the same) or in the temp directory.
 * A worker restarted after a crash also loads that configuration, not an unapplied edit.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadCliConfig } from '../reload.js';
import { contentHash } from '../../config/config-hash.js';
import { describeError } from '../describe-error.js';
import type { Supervisor } from './supervisor.js';

/** Workers answer a reload within this (a new port to bind, certificates to read). */
const RELOAD_TIMEOUT_MS = 10_000;

export interface ReloadOut {
  write(s: string): void;
  error(s: string): void;
}

/** The text of the configuration every worker runs (updated after each complete reload). */
export interface LastGood {
  text: string;
}

/**
 * `text` in a file beside `file` (relative paths in it resolve the same), or in the temp
 * directory when that one is read-only (a Kubernetes ConfigMap). `tag` names its use.
 */
export function writeBeside(file: string, text: string, tag: string): string {
  const name = `.${path.basename(file, path.extname(file))}.${tag}-${process.pid}${path.extname(file)}`;
  for (const dir of [path.dirname(file), os.tmpdir()]) {
    const p = path.join(dir, name);
    try {
      writeFileSync(p, text, { mode: 0o600 });
      return p;
    } catch {
      /* read-only: try the next */
    }
  }
  throw new Error(`cannot write ${name}`);
}

/**
 * The file a (re)started worker loads: the one every worker runs. That is `file` unless it was
 * edited since the last complete reload (a restart must not pick up an edit no SIGHUP applied).
 */
export function runningConfig(file: string, lastGood: LastGood): string {
  try {
    if (readFileSync(file, 'utf8') === lastGood.text) return file;
  } catch {
    /* gone or unreadable: the copy below */
  }
  return writeBeside(file, lastGood.text, 'running');
}

export async function reloadAll(sup: Supervisor, file: string, lastGood: LastGood, out: ReloadOut): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
    await loadCliConfig(file);
  } catch (err) {
    out.error(`sightline: reload refused, nothing changed: ${describeError(err)}\n`);
    return false;
  }
  const results = await sup.reload(file, RELOAD_TIMEOUT_MS);
  const failed = results.filter((r) => !r.result.ok);
  if (failed.length === 0) {
    lastGood.text = text;
    const gens = results.map((r) => (r.result.ok ? r.result.generation : 0));
    out.write(
      `reloaded ${file} in all ${results.length} workers (generation ${Math.max(...gens)}), file sha256 ${contentHash(text)}\n`,
    );
    return true;
  }
  const why = failed.map((f) => `worker ${f.worker}: ${f.result.ok ? '' : f.result.error}`).join('; ');
  const applied = new Set(results.filter((r) => r.result.ok).map((r) => r.worker));
  let rollback = 'no worker changed';
  if (applied.size > 0) {
    try {
      const back = writeBeside(file, lastGood.text, 'rollback');
      try {
        const undone = await sup.reload(back, RELOAD_TIMEOUT_MS, applied);
        const stuck = undone.filter((r) => !r.result.ok).map((r) => r.worker);
        rollback =
          stuck.length === 0
            ? `the ${applied.size} that applied it were rolled back`
            : `rollback failed in worker(s) ${stuck.join(', ')}`;
      } finally {
        await rm(back, { force: true });
      }
    } catch (err) {
      rollback = `rollback failed: ${describeError(err)}`;
    }
  }
  out.error(`sightline: reload failed in ${failed.length} of ${results.length} workers (${why}); ${rollback}\n`);
  return false;
}
