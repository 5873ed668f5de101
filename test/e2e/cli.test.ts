/** The CLI as a user runs it (needs `npm run build`; `npm test` builds first). */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { connect, echoServer, freePorts, readBytes, HOST } from '../helpers/net.js';

const BIN = path.resolve('bin/sightline.js');

async function tmpFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sightline-cli-'));
  const f = path.join(dir, name);
  await writeFile(f, text);
  return f;
}

function run(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sightline CLI', () => {
  it('--help and --version', () => {
    const h = run(['--help']);
    expect(h.code).toBe(0);
    expect(h.out).toContain('start');
    expect(h.out).toContain('check');
    const v = run(['--version']);
    expect(v.code).toBe(0);
    expect(v.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('check: exit 0 for a valid file, 2 with the key path and a hint for a misspelt key', async () => {
    const good = await tmpFile(
      'good.yaml',
      'routes:\n  - name: r\n    match: { ports: 8443 }\n    action: { type: forward, target: { host: 127.0.0.1, port: 9000 } }\n',
    );
    expect(run(['check', '-c', good]).code).toBe(0);
    const bad = await tmpFile(
      'bad.yaml',
      'routes:\n  - name: r\n    match: { ports: 8443, domain: a.test }\n    action: { type: forward, target: { host: 127.0.0.1, port: 9000 } }\n',
    );
    const r = run(['check', '-c', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('routes[0].match');
    expect(r.err).toContain('domains');
  });

  it('start: a bad config or a missing file exits 2 with one line per problem, each naming the file', async () => {
    const bad = await tmpFile(
      'bad.json',
      JSON.stringify({ routes: [{ match: { ports: 'x' }, action: { type: 'forward' } }] }),
    );
    const r = run(['start', '-c', bad]);
    expect(r.code).toBe(2);
    const lines = r.err.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(`^sightline: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: routes\\[0\\]\\.match\\.ports: `),
    );
    expect(lines[1]).toContain(`${bad}: routes[0].action.target: `);
    const missing = run(['start', '-c', '/nonexistent/sightline.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.err.trim().split('\n')).toHaveLength(1);
  });

  it('start: a port in use exits 2 naming the port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, HOST, r));
    const used = (blocker.address() as net.AddressInfo).port;
    const cfg = await tmpFile(
      'used.yaml',
      `listenHost: 127.0.0.1\nroutes:\n  - name: r\n    match: { ports: ${used} }\n    action: { type: forward, target: { host: 127.0.0.1, port: 9 } }\n`,
    );
    const r = run(['start', '-c', cfg]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(String(used));
    expect(r.err).toContain('EADDRINUSE');
    blocker.close();
  });

  it('start: prints one line per listener, proxies, and drains and exits 0 on SIGTERM', async () => {
    const echo = await echoServer();
    const [p1, p2] = await freePorts(2);
    const cfg = await tmpFile(
      'run.yaml',
      `listenHost: 127.0.0.1\ngracefulShutdownTimeout: 2000\nadmin: { port: 0 }\nroutes:\n  - name: echo\n    match: { ports: [${p1}, ${p2}] }\n    action: { type: forward, target: { host: 127.0.0.1, port: ${echo.port} } }\n`,
    );
    const child = spawn(process.execPath, [BIN, 'start', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Human lines go to stderr; stdout is the JSON log's.
    let out = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`not listening: ${out}`)), 10_000);
      child.stderr.on('data', () => {
        if ((out.match(/listening on/g) ?? []).length === 2) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    expect(out).toContain(`listening on 127.0.0.1:${p1} (routes: echo)`);
    const s = await connect(p1!);
    s.write('via-cli');
    expect((await readBytes(s, 7)).toString()).toBe('via-cli');
    s.end();
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(out).toContain('draining');
    expect(out).toContain('stopped');
    // stdout holds JSON log lines only (the access line of the echo connection among them).
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(() => JSON.parse(l) as unknown, l).not.toThrow();
    expect(lines.some((l) => (JSON.parse(l) as { event?: string }).event === 'access')).toBe(true);
    await echo.close();
  });
});
