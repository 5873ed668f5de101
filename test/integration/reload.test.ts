/**
 * `reloadFromFile(proxy, file)` (src/cli/reload.ts), the function the CLI's SIGHUP and cluster
 * workers call: validate the whole file, then swap atomically; a failure (invalid file, port in
 * use) changes nothing, is counted, and says why naming the file and key.
 */
import net from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCliConfig, reloadFromFile } from '../../src/cli/reload.js';
import { SightlineProxy } from '../../src/server.js';
import { connect, freePort, HOST, readBytes } from '../helpers/net.js';
import { useReloadRig } from '../helpers/reload-rig.js';

const rig = useReloadRig('sightline-reload-int-');

const yaml = (routes: Array<[name: string, port: number, backend: number]>, extra = ''): string =>
  `listenHost: 127.0.0.1\nadmin: { enabled: false }\ntelemetry: { logging: { level: silent } }\n${extra}routes:\n` +
  routes
    .map(
      ([n, p, t]) =>
        `  - name: ${n}\n    match: { ports: ${p} }\n    action: { type: forward, target: { host: 127.0.0.1, port: ${t} } }\n`,
    )
    .join('');

async function tagOf(port: number): Promise<string> {
  const s = await connect(port);
  const t = (await readBytes(s, 1)).toString();
  s.destroy();
  return t;
}

const metric = async (p: SightlineProxy, name: string): Promise<number> => {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec((await p.telemetry!.scrape(false)).body);
  return m ? Number(m[1]) : NaN;
};

describe('reloadFromFile', () => {
  it('applies a valid file atomically (new ports, new targets, live connections keep their route) and refuses a bad one without a change', async () => {
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    const file = path.join(rig.dir, 'r.yaml');
    await writeFile(file, yaml([['one', p1, rig.a.port]]));
    const proxy = new SightlineProxy(await loadCliConfig(file));
    await proxy.start();
    try {
      expect(proxy.getStats().getConfigGeneration()).toBe(1);
      const live = await connect(p1);
      expect((await readBytes(live, 1)).toString()).toBe('A');

      await writeFile(
        file,
        yaml(
          [
            ['one', p1, rig.b.port],
            ['two', p2, rig.a.port],
          ],
          'connectionTimeout: 1234\n',
        ),
      );
      expect(await reloadFromFile(proxy, file)).toEqual({
        ok: true,
        generation: 2,
        restartNeeded: [],
        configHash: expect.stringMatching(/^[0-9a-f]{12}$/) as unknown,
      });
      expect(proxy.listeningPorts).toEqual([p1, p2].sort((x, y) => x - y));
      expect(await tagOf(p1)).toBe('B');
      expect(await tagOf(p2)).toBe('A');
      expect(proxy.options.connectionTimeout).toBe(1234);
      live.write('x');
      expect((await readBytes(live, 1)).toString()).toBe('x');
      expect(
        [...proxy.connectionManager.getConnections().values()].some(
          (c) => c.routeName === 'one' && c.target === `127.0.0.1:${rig.a.port}`,
        ),
      ).toBe(true);

      // Invalid: one error naming the file and the key; nothing changes.
      await writeFile(file, yaml([['one', p1, rig.a.port]], 'noDelay: maybe\n'));
      const bad = await reloadFromFile(proxy, file);
      expect(bad).toEqual({
        ok: false,
        error: expect.stringContaining(`${file}: noDelay: expected true or false`) as unknown,
      });
      expect(await tagOf(p1)).toBe('B');

      // A port that cannot be bound fails the whole swap: the new port opened first is closed again.
      const blocker = net.createServer();
      await new Promise<void>((r) => blocker.listen(p3, HOST, r));
      const p4 = await freePort();
      await writeFile(
        file,
        yaml([
          ['one', p1, rig.a.port],
          ['four', p4, rig.a.port],
          ['three', p3, rig.a.port],
        ]),
      );
      const busy = await reloadFromFile(proxy, file);
      blocker.close();
      expect(busy.ok).toBe(false);
      expect(!busy.ok && busy.error).toMatch(
        new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*${p3}.*EADDRINUSE`),
      );
      expect(proxy.listeningPorts).toEqual([p1, p2].sort((x, y) => x - y));
      expect(await tagOf(p1)).toBe('B');
      expect(proxy.getStats().getConfigGeneration()).toBe(2);
      expect(await metric(proxy, 'sightline_config_reload_failures_total')).toBe(2);
      expect(await metric(proxy, 'sightline_config_generation')).toBe(2);

      // Settings bound at start are named, not silently ignored.
      await writeFile(file, yaml([['one', p1, rig.a.port]], 'maxConnectionsPerIP: 7\n'));
      expect(await reloadFromFile(proxy, file)).toEqual({
        ok: true,
        generation: 3,
        restartNeeded: ['maxConnectionsPerIP'],
        configHash: expect.stringMatching(/^[0-9a-f]{12}$/) as unknown,
      });
      expect(proxy.options.maxConnectionsPerIP).toBe(100);
      expect(proxy.listeningPorts).toEqual([p1]);

      // A burst of reloads: one runs, the rest share the one reload that waits for it.
      const burst = await Promise.all([
        reloadFromFile(proxy, file),
        reloadFromFile(proxy, file),
        reloadFromFile(proxy, file),
        reloadFromFile(proxy, file),
      ]);
      expect(burst.map((r) => r.ok && r.generation)).toEqual([4, 5, 5, 5]);
      expect(await reloadFromFile(proxy, file)).toMatchObject({ ok: true, generation: 6 });
      live.destroy();
    } finally {
      await proxy.stop();
    }
  });

  it('refuses to reload a proxy that is draining (it would reopen its listeners)', async () => {
    const port = await freePort();
    const file = path.join(rig.dir, 'd.yaml');
    await writeFile(file, yaml([['one', port, rig.a.port]], 'gracefulShutdownTimeout: 2000\n'));
    const proxy = new SightlineProxy(await loadCliConfig(file));
    await proxy.start();
    const live = await connect(port);
    await readBytes(live, 1);
    const stopping = proxy.stop();
    const r = await reloadFromFile(proxy, file);
    expect(r).toEqual({ ok: false, error: `${file}: the proxy is stopping; the configuration was not applied` });
    expect(proxy.listeningPorts).toEqual([]);
    live.destroy();
    await stopping;
  });

  it('the CLI reads a file without `admin` as admin on 127.0.0.1:9464 (the library itself opens none)', async () => {
    const file = path.join(rig.dir, 'no-admin.yaml');
    await writeFile(file, 'routes: []\n');
    expect((await loadCliConfig(file)).admin).toEqual({
      host: '127.0.0.1',
      port: 9464,
      enabled: true,
      allowUnauthenticatedRemote: false,
      allowedHosts: [],
    });
    await writeFile(file, 'routes: []\nadmin: { enabled: false }\n');
    expect((await loadCliConfig(file)).admin?.enabled).toBe(false);
  });
});
