/**
 * The connection story through the real CLI (issue 14 point 5): SIGHUP names the generation it
 * came from and the file's content hash (stderr, the JSON log's reload record, /api/stats); a
 * connection opened before the reload keeps generation 1 in its access line, one opened after gets
 * 2; a long-lived connection shows up in progress records while it lives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { closed, connect, freePort, readBytes, waitFor } from '../helpers/net.js';
import { useReloadRig } from '../helpers/reload-rig.js';

interface Cli {
  readonly child: ChildProcess;
  err: string;
  out: string;
  readonly exit: Promise<number | null>;
}

function startCli(file: string): Cli {
  const child = spawn(process.execPath, [BIN, 'start', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const cli: Cli = { child, err: '', out: '', exit: new Promise((r) => child.once('exit', (code) => r(code))) };
  child.stderr!.on('data', (d: Buffer) => (cli.err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (cli.out += d.toString()));
  return cli;
}

const records = (out: string): Array<Record<string, unknown>> =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('sightline start: the connection story', () => {
  const rig = useReloadRig('sightline-story-');

  it('SIGHUP: generation old → new with the file hash; live connections keep theirs; progress records while they live', async () => {
    const port = await freePort();
    const cfg = path.join(rig.dir, 'sightline.yaml');
    const config = (backend: number): string =>
      `listenHost: 127.0.0.1\nadmin: { port: 0 }\ngracefulShutdownTimeout: 1000\ntelemetry: { progressInterval: 300 }\nroutes:\n` +
      `  - name: plain\n    match: { ports: ${port} }\n    action: { type: forward, target: { host: 127.0.0.1, port: ${backend} } }\n`;
    await writeFile(cfg, config(rig.a.port));
    const hashOf = async (): Promise<string> =>
      createHash('sha256')
        .update(await readFile(cfg))
        .digest('hex')
        .slice(0, 12);
    const first = await hashOf();
    const cli = startCli(cfg);
    try {
      await waitFor(() => /admin on (http:\S+)/.test(cli.err), 15_000, `admin line in: ${cli.err}`);
      const admin = /admin on (http:\S+)/.exec(cli.err)![1]!;
      const stats = async (): Promise<Record<string, unknown>> =>
        (await (await fetch(`${admin}api/stats`)).json()) as Record<string, unknown>;
      expect(await stats()).toMatchObject({ configGeneration: 1, configHash: first });

      const live = await connect(port);
      expect((await readBytes(live, 1)).toString()).toBe('A');

      await writeFile(cfg, config(rig.b.port));
      const second = await hashOf();
      expect(second).not.toBe(first);
      cli.child.kill('SIGHUP');
      await waitFor(
        () => cli.err.includes('reloaded (configuration generation 2)'),
        10_000,
        `reload line in: ${cli.err}`,
      );
      expect(cli.err).toContain(`reloaded (configuration generation 2) from generation 1, file sha256 ${second}`);
      expect(await stats()).toMatchObject({ configGeneration: 2, configHash: second });
      await waitFor(() => records(cli.out).some((r) => r.event === 'proxy-routes-updated'), 5000, 'the reload record');
      expect(records(cli.out).find((r) => r.event === 'proxy-routes-updated')).toMatchObject({
        msg: 'configuration generation 1 → 2',
        generation: 2,
        previousGeneration: 1,
        configHash: second,
      });

      const fresh = await connect(port);
      expect((await readBytes(fresh, 1)).toString()).toBe('B');
      fresh.end();
      await closed(fresh);
      // The live one keeps moving bytes past a few progress intervals, then ends.
      for (let i = 0; i < 8; i++) {
        live.write('xy');
        await readBytes(live, 2);
        await sleep(100);
      }
      live.end();
      await closed(live);
      await waitFor(
        () => records(cli.out).filter((r) => r.event === 'access').length === 2,
        5000,
        `two access lines in: ${cli.out}`,
      );
      const access = records(cli.out).filter((r) => r.event === 'access');
      expect(access.find((r) => r.clientPort === fresh.localPort)).toMatchObject({ configGeneration: 2 });
      expect(access.find((r) => r.clientPort === live.localPort)).toMatchObject({
        configGeneration: 1,
        milestonesMs: {
          routed: expect.any(Number),
          upstream: expect.any(Number),
          c2bFirst: expect.any(Number),
          b2cLast: expect.any(Number),
        },
      });
      const progress = records(cli.out).filter((r) => r.event === 'connection-progress');
      expect(progress.length).toBeGreaterThanOrEqual(1);
      expect(progress.every((r) => r.configGeneration === 1 && r.route === 'plain')).toBe(true);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exit;
    }
  });
});
