/**
 * `sightline demo` as a user runs it (needs `npm run build`), compressed: the simulated load
 * balancer cuts idle connections after 3 s instead of 30 s and the demo opens one every 0.4 s,
 * so the detector has its 8 closes at ~3 s after about 6 s. The demo prints the status page URL,
 * the routes, progress lines (plain lines: stdout is a pipe), then the pattern; /api/patterns on
 * the printed URL shows it, `npx sightline diagnose` explains it (exit 1), SIGTERM drains and
 * exits 0, and so does Ctrl-C under `npm start`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST } from '../helpers/net.js';
import { BIN, sightline, type CliResult } from '../helpers/cli.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Can `port` be listened on now? */
function bindable(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, HOST, () => s.close(() => resolve(true)));
  });
}

/**
 * Two consecutive free ports (the demo's healthy and load-balanced routes), drawn below the
 * kernel's ephemeral range (32768+): there, a busy machine's outgoing connections hold ports and
 * the neighbour of a free ephemeral port is often taken.
 */
async function freeBase(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = 20_000 + Math.floor(Math.random() * 12_000);
    if ((await bindable(p)) && (await bindable(p + 1))) return p;
  }
  throw new Error('no two consecutive free ports');
}

interface Running {
  readonly child: ChildProcess;
  out(): string;
  err(): string;
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): Running {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    waitFor: (re, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const m = out.match(re);
          if (m === null) return false;
          clearTimeout(timer);
          child.stdout!.removeListener('data', check);
          resolve(m);
          return true;
        };
        const timer = setTimeout(
          () => reject(new Error(`no ${re} within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`)),
          timeoutMs,
        );
        child.stdout!.on('data', check);
        void exited.then(() =>
          setTimeout(() => {
            if (check()) return;
            clearTimeout(timer);
            reject(new Error(`exited before ${re}; stdout:\n${out}\nstderr:\n${err}`));
          }, 10),
        );
        check();
      }),
  };
}

const diagnose = (args: string[]): Promise<CliResult> => sightline(['diagnose', ...args]);

describe('sightline demo', () => {
  it('reproduces the 30-second drop (compressed to 3 s), names it, serves it, and drains on SIGTERM', async () => {
    const base = await freeBase();
    const t0 = Date.now();
    const demo = run([
      'demo',
      '--duration',
      '90',
      '--drop-after',
      '3',
      '--admin-port',
      '0',
      '--port-base',
      String(base),
    ]);

    const [, admin] = await demo.waitFor(/status page\s+(http:\/\/127\.0\.0\.1:\d+\/)/, 10_000);
    expect(demo.out()).toContain(`echo          127.0.0.1:${base} `);
    expect(demo.out()).toContain(`ws-behind-lb  127.0.0.1:${base + 1} `);
    expect(demo.out()).toContain('cuts connections idle for 3 s');
    expect(demo.out()).toMatch(/a new idle long-lived connection every 0\.4 s/);

    const [, summary] = await demo.waitFor(/pattern detected on route ws-behind-lb after \d+ s:\n {2}(.*)\n/, 25_000);
    const detectedAfter = Date.now() - t0;
    expect(summary).toMatch(
      /^connections on route ws-behind-lb die at (2\.9|3\.0|3\.1) s ± \d\.\d s \(age-clustered, [a-z-]+, closed by backend, \d+ closes, mostly backend_closed\)/,
    );
    await demo.waitFor(/run `npx sightline diagnose --admin http:\/\/127\.0\.0\.1:\d+\/`/, 2000);
    expect(demo.out()).toContain(`open ${admin} to see it on the status page`);

    // Progress: plain lines (stdout is not a TTY), no carriage returns.
    const progress =
      demo
        .out()
        .match(/^waiting for the detector: \d+ connections? closed on route ws-behind-lb so far, ~\d+ s in$/gm) ?? [];
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(demo.out()).not.toContain('\r');

    const res = await fetch(new URL('api/patterns', admin));
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      patterns: Array<{
        route: string;
        kind: string;
        initiator: string;
        local: boolean;
        periodMs: number;
        count: number;
      }>;
    };
    const p = body.patterns.find((x) => x.route === 'ws-behind-lb');
    expect(p).toMatchObject({ kind: 'age-clustered', initiator: 'backend', local: false });
    expect(Math.abs(p!.periodMs - 3000)).toBeLessThan(250);
    expect(p!.count).toBeGreaterThanOrEqual(8);
    expect(body.patterns.filter((x) => x.route === 'echo')).toEqual([]);

    // diagnose against the running demo: a finding on ws-behind-lb, the healthy route healthy.
    const d = await diagnose(['--admin', admin!]);
    expect(d.err).toBe('');
    expect(d.code).toBe(1);
    expect(d.out).toMatch(/route ws-behind-lb: DISCONNECT PATTERN \(age-clustered\)/);
    expect(d.out).toMatch(/are being closed at (2\.9|3\.0|3\.1) s ± \d\.\d s of age, by the backend side/);
    expect(d.out).toMatch(/route echo: healthy/);

    demo.child.kill('SIGTERM');
    const exit = await demo.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(demo.out()).toContain('SIGTERM received: draining');
    expect(demo.out()).toMatch(/stopped\n$/);
    expect(demo.err()).toBe('');
    // Reported for the record: how long the compressed demo took to show the pattern.
    expect(detectedAfter).toBeLessThan(25_000);
  }, 45_000);

  it('Ctrl-C under `npm start` drains and exits 0: the script execs node, so no shell turns the SIGINT into 130', async () => {
    // What a terminal's Ctrl-C does: SIGINT to the whole foreground process group (npm, the
    // script's shell, node). The script's command line as npm runs it (sh -c, arguments
    // appended), without its build step; dash would exit 130 after its child if it were still there.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const script = pkg.scripts['start']!;
    expect(script).toMatch(/^npm run build && exec node /);
    const base = await freeBase();
    const cmd = `${script.replace(/^npm run build && /, '')} --admin-port 0 --port-base ${base} --drop-after 3`;
    const child = spawn('/bin/sh', ['-c', cmd], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` },
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    for (let t = Date.now(); !/status page/.test(out) && Date.now() - t < 15_000;)
      await new Promise((r) => setTimeout(r, 50));
    expect(out).toMatch(/status page/);
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(out).toContain('SIGINT received: draining');
    expect(out).toMatch(/stopped\n$/);
  }, 30_000);

  it('stops by itself after --duration and exits 0', async () => {
    const demo = run([
      'demo',
      '--duration',
      '1.5',
      '--drop-after',
      '3',
      '--admin-port',
      '0',
      '--port-base',
      String(await freeBase()),
    ]);
    const exit = await demo.exited;
    expect(exit.code).toBe(0);
    expect(demo.out()).toContain('1.5 s elapsed: draining');
    expect(demo.out()).toContain('the detector has not reported the ws-behind-lb pattern yet');
  }, 20_000);

  it('bad usage and a busy admin port exit 2 with a one-line message', async () => {
    const bad = run(['demo', '--drop-after', '1', '--admin-port', '0']);
    expect((await bad.exited).code).toBe(2);
    expect(bad.err()).toMatch(/--drop-after must be a number of seconds from 2 to 3600/);

    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, HOST, r));
    const used = (blocker.address() as net.AddressInfo).port;
    try {
      const busy = run([
        'demo',
        '--admin-port',
        String(used),
        '--port-base',
        String(await freeBase()),
        '--duration',
        '5',
      ]);
      expect((await busy.exited).code).toBe(2);
      expect(busy.err()).toContain(String(used));
      expect(busy.err()).toContain('EADDRINUSE');
      expect(busy.err()).toContain('--admin-port 0');
      expect(busy.err().trim().split('\n')).toHaveLength(1);
    } finally {
      blocker.close();
    }
  }, 20_000);
});
