/**
 * The diagnosis scenario suite's view of a running proxy (test/e2e/diagnose-scenarios.test.ts):
 * `sightline start -c <file>` as a child process, its admin URL read from the human lines on
 * stderr, the detector's standing findings polled from /api/patterns (when each first appeared),
 * and the verdict read back through `sightline diagnose --admin ... --json`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BIN, sightline } from './cli.js';
import { waitFor } from './net.js';

export const SCENARIO_TOKEN = 'scenario-token';

/** One finding as /api/patterns shows it, when a poll saw it. */
export interface Seen {
  readonly at: number;
  readonly route: string;
  readonly kind: string;
  readonly periodMs: number;
  readonly initiator: string;
}

/** The parts of `diagnose --json` the scenarios read. */
export interface DiagnoseFinding {
  readonly route: string;
  readonly kind: string;
  readonly periodSeconds: number;
  readonly initiator: string;
  readonly local: boolean;
  readonly culprits: readonly string[];
  readonly checks: readonly string[];
  readonly timersOnPath?: readonly string[];
}
export interface DiagnoseReport {
  readonly exitCode: number;
  readonly routes: ReadonlyArray<{
    readonly route: string;
    readonly status: string;
    readonly findings: readonly DiagnoseFinding[];
  }>;
}

export interface RunningCli {
  readonly admin: string;
  readonly child: ChildProcess;
  /** Everything the CLI wrote to stderr so far (human lines). */
  err(): string;
  /** Every finding every poll saw, in order. */
  readonly seen: Seen[];
  /** Rewrite the configuration file (a later SIGHUP reloads it). */
  rewrite(options: Record<string, unknown>): Promise<void>;
  signal(sig: NodeJS.Signals): void;
  diagnose(): Promise<{ code: number | null; report: DiagnoseReport | null; err: string }>;
  /** A counter or gauge from /metrics (NaN when absent). */
  metric(name: string): Promise<number>;
  readonly exited: Promise<number | null>;
  /** SIGTERM twice (drain, then at once) and wait for the exit; removes the config directory. */
  stop(): Promise<void>;
}

const POLL_MS = 200;

/** Options every scenario proxy shares: loopback, a token, no per-IP limits (every client is 127.0.0.1). */
const BASE = {
  listenHost: '127.0.0.1',
  admin: { port: 0, token: SCENARIO_TOKEN },
  maxConnectionsPerIP: 0,
  connectionRateLimitPerMinute: 0,
  gracefulShutdownTimeout: 500,
  telemetry: { logging: { level: 'warn' } },
};

/** YAML is a superset of JSON: the options object is written as JSON. */
const yamlOf = (options: Record<string, unknown>): string => `${JSON.stringify({ ...BASE, ...options }, null, 2)}\n`;

export async function startCli(options: Record<string, unknown>): Promise<RunningCli> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sightline-scenario-'));
  const file = path.join(dir, 'sightline.yaml');
  await writeFile(file, yamlOf(options));
  const child = spawn(process.execPath, [BIN, 'start', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  // stdout is the JSON log: read and dropped, so the pipe never fills.
  child.stdout!.resume();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  await waitFor(() => gone || /admin on (http:\S+)/.test(err), 20_000, `the admin line on stderr: ${err}`);
  if (gone) throw new Error(`sightline start exited: ${err}`);
  const admin = /admin on (http:\S+)/.exec(err)![1]!;
  const headers = { authorization: `Bearer ${SCENARIO_TOKEN}` };

  const seen: Seen[] = [];
  let polling = true;
  const poll = async (): Promise<void> => {
    while (polling && !gone) {
      const at = Date.now();
      try {
        const r = await fetch(new URL('api/patterns', admin), { headers, signal: AbortSignal.timeout(2_000) });
        const body = (await r.json()) as { patterns: Array<Omit<Seen, 'at'>> };
        for (const p of body.patterns)
          seen.push({ at, route: p.route, kind: p.kind, periodMs: p.periodMs, initiator: p.initiator });
      } catch {
        // A poll during start-up, a drain's last moments or a loaded machine: the next one counts.
      }
      await new Promise((r) => setTimeout(r, Math.max(0, POLL_MS - (Date.now() - at))));
    }
  };
  const poller = poll();

  return {
    admin,
    child,
    err: () => err,
    seen,
    rewrite: (o) => writeFile(file, yamlOf(o)),
    signal: (sig) => void child.kill(sig),
    async diagnose() {
      const r = await sightline(['diagnose', '--admin', admin, '--token', SCENARIO_TOKEN, '--json', '--timeout', '10']);
      let report: DiagnoseReport | null = null;
      try {
        report = JSON.parse(r.out) as DiagnoseReport;
      } catch {
        report = null;
      }
      return { code: r.code, report, err: r.err };
    },
    async metric(name) {
      const text = await (await fetch(new URL('metrics', admin), { headers })).text();
      const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : NaN;
    },
    exited,
    async stop() {
      polling = false;
      if (!gone) {
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGTERM'), 200).unref();
        const guard = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(guard);
      }
      await poller;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
