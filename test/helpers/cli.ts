/** Run the `sightline` CLI (bin/sightline.js over dist/) as a user would, and collect its output. */
import { spawn } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve('bin/sightline.js');

export interface CliResult {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** `sightline <args>` to completion (asynchronously: in-process servers keep answering meanwhile). */
export function sightline(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.once('exit', (code) => resolve({ code, out, err }));
  });
}
