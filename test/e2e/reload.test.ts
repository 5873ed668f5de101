/**
 * Signals as an operator expects (issue 11 §5), through the real CLI: SIGHUP with a valid file
 * (new connections take the new route, a live one keeps its own), an invalid file (the running
 * configuration stays; logged, counted), a rotated certificate (served to the next TLS client);
 * SIGTERM drains and a second SIGTERM stops at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { certFor, connect, freePorts, HOST, readBytes, waitFor } from '../helpers/net.js';
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

const count = (text: string, re: RegExp): number => (text.match(re) ?? []).length;

/** The served certificate's fingerprint, from a fresh TLS client. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: HOST, port, servername: 'rotate.test', rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.once('error', reject);
  });
}

const fingerprintOf = (pem: string): string => new X509Certificate(pem).fingerprint256;

describe('sightline start: signals', () => {
  const rig = useReloadRig('sightline-reload-');

  it('SIGHUP: a valid file is swapped in, an invalid one is refused and counted, a rotated certificate is served to the next client', async () => {
    const [plain, tlsPort] = await freePorts(2);
    const cfg = path.join(rig.dir, 'sightline.yaml');
    const certFile = path.join(rig.dir, 'cert.pem');
    const keyFile = path.join(rig.dir, 'key.pem');
    const one = await certFor('rotate.test');
    const two = await certFor('rotate.test');
    await writeFile(certFile, one.cert);
    await writeFile(keyFile, one.key);
    const config = (backend: number, extra = ''): string =>
      `listenHost: 127.0.0.1\nadmin: { port: 0 }\ngracefulShutdownTimeout: 2000\n${extra}routes:\n` +
      `  - name: plain\n    match: { ports: ${plain} }\n    action: { type: forward, target: { host: 127.0.0.1, port: ${backend} } }\n` +
      `  - name: tls\n    match: { ports: ${tlsPort} }\n    action:\n      type: forward\n      protocol: tcp\n      target: { host: 127.0.0.1, port: ${rig.a.port} }\n` +
      `      tls: { mode: terminate, certificate: { certFile: cert.pem, keyFile: key.pem } }\n`;
    await writeFile(cfg, config(rig.a.port));
    const cli = startCli(cfg);
    try {
      await waitFor(() => /admin on (http:\S+)/.test(cli.err), 15_000, `admin line in: ${cli.err}`);
      const admin = /admin on (http:\S+)/.exec(cli.err)![1]!;
      const metric = async (name: string): Promise<number> => {
        const text = await (await fetch(`${admin}metrics`)).text();
        const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
        return m ? Number(m[1]) : NaN;
      };
      expect(await metric('sightline_config_generation')).toBe(1);
      expect(await metric('sightline_config_reload_failures_total')).toBe(0);
      expect(await servedFingerprint(tlsPort!)).toBe(fingerprintOf(one.cert));

      // A live connection on the old route.
      const live = await connect(plain!);
      expect((await readBytes(live, 1)).toString()).toBe('A');

      // 1. Valid file: the route now goes to B.
      await writeFile(cfg, config(rig.b.port));
      cli.child.kill('SIGHUP');
      await waitFor(
        () => cli.err.includes('reloaded (configuration generation 2)'),
        10_000,
        `reload line in: ${cli.err}`,
      );
      const fresh = await connect(plain!);
      expect((await readBytes(fresh, 1)).toString()).toBe('B');
      fresh.destroy();
      live.write('still-A');
      expect((await readBytes(live, 7)).toString()).toBe('still-A');
      expect(await metric('sightline_config_generation')).toBe(2);

      // 2. Invalid file: refused, one line naming the file and key; B keeps serving; counted and logged.
      await writeFile(cfg, config(rig.a.port, 'inactivityTimout: 5\n'));
      cli.child.kill('SIGHUP');
      await waitFor(() => cli.err.includes('reload refused'), 10_000, `refusal in: ${cli.err}`);
      const refusal = cli.err.split('\n').find((l) => l.includes('reload refused'))!;
      expect(refusal).toContain(`${cfg}: inactivityTimout: unknown key`);
      const again = await connect(plain!);
      expect((await readBytes(again, 1)).toString()).toBe('B');
      again.destroy();
      expect(await metric('sightline_config_reload_failures_total')).toBe(1);
      expect(await metric('sightline_config_generation')).toBe(2);
      await waitFor(() => cli.out.includes('proxy-reload-failed'), 5_000, 'the JSON log record of the refusal');

      // 3. Certificate rotation: same paths, new files, SIGHUP; the next TLS client gets the new one.
      await writeFile(cfg, config(rig.b.port));
      await writeFile(certFile, two.cert);
      await writeFile(keyFile, two.key);
      cli.child.kill('SIGHUP');
      await waitFor(
        () => cli.err.includes('reloaded (configuration generation 3)'),
        10_000,
        `reload line in: ${cli.err}`,
      );
      expect(await servedFingerprint(tlsPort!)).toBe(fingerprintOf(two.cert));
      expect(fingerprintOf(two.cert)).not.toBe(fingerprintOf(one.cert));

      // 4. A missing certificate on reload is refused like any bad file; the rotated one stays.
      await writeFile(cfg, config(rig.b.port).replace('certFile: cert.pem', 'certFile: gone.pem'));
      cli.child.kill('SIGHUP');
      await waitFor(() => count(cli.err, /reload refused/g) === 2, 10_000, `second refusal in: ${cli.err}`);
      expect(cli.err).toContain('routes[1].action.tls.certificate.certFile: cannot read');
      expect(await servedFingerprint(tlsPort!)).toBe(fingerprintOf(two.cert));
      live.destroy();
    } finally {
      cli.child.kill('SIGTERM');
      expect(await cli.exit).toBe(0);
    }
    // stdout stayed pure JSON while all this was printed on stderr.
    for (const l of cli.out.trim().split('\n')) expect(() => JSON.parse(l) as unknown, l).not.toThrow();
  }, 60_000);

  it('SIGTERM drains; a second SIGTERM stops at once, and the open connection still gets its close record', async () => {
    const [port] = await freePorts(1);
    const cfg = path.join(rig.dir, 'drain.yaml');
    await writeFile(
      cfg,
      `listenHost: 127.0.0.1\nadmin: { enabled: false }\ngracefulShutdownTimeout: 30000\nroutes:\n  - name: r\n    match: { ports: ${port} }\n    action: { type: forward, target: { host: 127.0.0.1, port: ${rig.a.port} } }\n`,
    );
    const cli = startCli(cfg);
    await waitFor(() => cli.err.includes('listening on'), 15_000, `listening in: ${cli.err}`);
    const s = await connect(port!);
    expect((await readBytes(s, 1)).toString()).toBe('A');
    cli.child.kill('SIGTERM');
    await waitFor(() => cli.err.includes('draining'), 5_000, 'draining line');
    // Still draining: the connection is open and the process is alive.
    await new Promise((r) => setTimeout(r, 300));
    expect(cli.child.exitCode).toBeNull();
    const t0 = Date.now();
    cli.child.kill('SIGTERM');
    expect(await cli.exit).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(cli.err).toContain('received again: stopping now');
    const access = cli.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event?: string; reason?: string })
      .filter((r) => r.event === 'access');
    expect(access.map((r) => r.reason)).toEqual(['shutdown']);
    s.destroy();
  }, 30_000);

  it('SIGHUP on an unchanged file reloads it; the process keeps running', async () => {
    const [port] = await freePorts(1);
    const cfg = path.join(rig.dir, 'early.yaml');
    await writeFile(
      cfg,
      `listenHost: 127.0.0.1\nadmin: { enabled: false }\nroutes:\n  - match: { ports: ${port} }\n    action: { type: forward, target: { host: 127.0.0.1, port: ${rig.a.port} } }\n`,
    );
    const cli = startCli(cfg);
    await waitFor(() => cli.err.includes('listening on'), 15_000, `listening in: ${cli.err}`);
    cli.child.kill('SIGHUP');
    await waitFor(() => cli.err.includes('reloaded'), 5_000, `reload in: ${cli.err}`);
    expect(cli.child.exitCode).toBeNull();
    cli.child.kill('SIGINT');
    expect(await cli.exit).toBe(0);
  }, 30_000);
});
