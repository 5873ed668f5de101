/** Run the `sightline` CLI (bin/sightline.js over dist/) as a user would, and collect its output. */
import { spawn } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve('bin/sightline.js');

export interface CliResult {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
  /** Wall time from spawn to exit. */
  readonly ms: number;
}

/**
 * `sightline <args>` to completion (asynchronously: in-process servers keep answering meanwhile).
 * `killAfterMs`: a command that should have ended (a `start` that wrongly succeeds) is killed.
 */
export function sightline(args: readonly string[], killAfterMs?: number): Promise<CliResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const guard = killAfterMs === undefined ? undefined : setTimeout(() => c.kill('SIGKILL'), killAfterMs);
    c.once('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, out, err, ms: performance.now() - t0 });
    });
  });
}
