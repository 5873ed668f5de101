/** Run `sightline start --workers N` as a user would and follow its output (cluster tests, fleet e2e). */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from './cli.js';

export interface RunningCli {
  readonly child: ChildProcess;
  out: string;
  err: string;
  /** Resolves with the first stdout/stderr match of `re` (rejects after `timeoutMs`). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The admin URL the primary printed. */
  readonly adminUrl: string;
  exited: Promise<number | null>;
}

export async function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunningCli> {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const r = {
    child,
    out: '',
    err: '',
    adminUrl: '',
    exited: new Promise<number | null>((res) => child.once('exit', (code) => res(code))),
    async waitFor(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = re.exec(r.out) ?? re.exec(r.err);
        if (m !== null) return m;
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`no ${re} in output.\nstdout: ${r.out}\nstderr: ${r.err}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    },
  };
  child.stdout.on('data', (d: Buffer) => (r.out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (r.err += d.toString()));
  const m = await r.waitFor(/admin on (http:\/\/\S+)/, 30_000);
  r.adminUrl = m[1]!.replace(/\/$/, '');
  return r;
}
