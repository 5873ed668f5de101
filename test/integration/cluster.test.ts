/**
 * `sightline start --workers 2` (issue 13 point 2), through the real CLI: two node:cluster workers
 * share the route port with reusePort (the kernel spreads the connections), the primary's admin
 * listener shows the whole process (/metrics, /api/stats, /api/connections merged), one pattern
 * detector sees every worker's closes (a pattern too thin for either worker alone is found), a
 * killed worker is restarted and its connections counted, SIGHUP reloads all workers or none, and
 * SIGTERM drains them all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { customServer, echoServer, echoRoundTrip, freePorts, waitFor, HOST, type TestServer } from '../helpers/net.js';
import { startCli, type RunningCli } from '../helpers/cluster.js';

let dir = '';
let cfg = '';
let echo: TestServer;
let fixedAge: TestServer;
let cli: RunningCli;
let pEcho = 0;
let pAged = 0;
let pNew = 0;
const sockets: net.Socket[] = [];

const api = async <T>(p: string): Promise<T> => (await (await fetch(`${cli.adminUrl}${p}`)).json()) as T;
const metrics = async (): Promise<string> => (await fetch(`${cli.adminUrl}/metrics`)).text();
const sample = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
};

function config(extraRoute: boolean): string {
  const routes = [
    `  - { name: echo, match: { ports: ${pEcho} }, action: { type: forward, target: { host: ${HOST}, port: ${echo.port} } } }`,
    `  - { name: aged, match: { ports: ${pAged} }, action: { type: forward, target: { host: ${HOST}, port: ${fixedAge.port} } } }`,
  ];
  if (extraRoute)
    routes.push(
      `  - { name: added, match: { ports: ${pNew} }, action: { type: forward, target: { host: ${HOST}, port: ${echo.port} } } }`,
    );
  return [
    'listenHost: 127.0.0.1',
    'gracefulShutdownTimeout: 1000',
    'maxConnectionsPerIP: 0',
    'connectionRateLimitPerMinute: 0',
    'admin: { port: 0 }',
    'telemetry: { logging: { level: silent } }',
    'routes:',
    ...routes,
    '',
  ].join('\n');
}

function open(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, HOST, () => resolve(s));
    s.on('error', reject);
    sockets.push(s);
  });
}

beforeAll(async () => {
  echo = await echoServer();
  // Cuts every connection at 2.2 s of age: a fixed-age disconnect pattern.
  fixedAge = await customServer((s) => {
    s.on('error', () => {});
    const t = setTimeout(() => s.destroy(), 2200);
    s.on('close', () => clearTimeout(t));
  });
  [pEcho, pAged, pNew] = await freePorts(3);
  dir = mkdtempSync(path.join(os.tmpdir(), 'sightline-cluster-'));
  cfg = path.join(dir, 'sightline.yaml');
  writeFileSync(cfg, config(false));
  cli = await startCli(['start', '-c', cfg, '--workers', '2']);
}, 40_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  if (cli.child.exitCode === null) {
    cli.child.kill('SIGKILL');
    await cli.exited;
  }
  await echo.close();
  await fixedAge.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sightline start --workers 2', () => {
  it('says it runs two workers and listens on every route port', () => {
    // Human lines go to stderr (stdout carries only the JSON log when it is the log destination).
    expect(cli.err).toContain('2 workers');
    expect(cli.err).toContain(`listening on 127.0.0.1:${pEcho} (routes: echo)`);
  });

  it('each worker has its own listening socket on the port (SO_REUSEPORT), the primary none', async () => {
    const stats = await api<{ cluster: { workers: Array<{ pid: number }> } }>('/api/stats');
    // Listening sockets of the port (state 0A) in /proc/net/tcp, by inode...
    const hexPort = pEcho.toString(16).toUpperCase().padStart(4, '0');
    const inodes = new Set(
      readFileSync('/proc/net/tcp', 'utf8')
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A')
        .map((f) => f[9]!),
    );
    // ...and which process holds each (its fds link to socket:[inode]).
    const owns = (pid: number): number =>
      readdirSync(`/proc/${pid}/fd`).filter((fd) => {
        try {
          return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '');
        } catch {
          return false;
        }
      }).length;
    expect(inodes.size).toBe(2);
    expect(stats.cluster.workers.map((w) => owns(w.pid))).toEqual([1, 1]);
    expect(owns(cli.child.pid!)).toBe(0);
  });

  it('the kernel spreads connections over both workers; /api/connections, /api/stats and /metrics show the whole process', async () => {
    for (let i = 0; i < 24; i++) await open(pEcho);
    await echoRoundTrip(pEcho, 'through a worker');
    await waitFor(() => true, 1);
    let conns = await api<{ total: number; items: Array<{ worker: number; route: string }> }>(
      '/api/connections?limit=1000',
    );
    const deadline = Date.now() + 5000;
    while (conns.total < 24 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      conns = await api('/api/connections?limit=1000');
    }
    expect(conns.total).toBe(24);
    const perWorker = new Map<number, number>();
    for (const c of conns.items) perWorker.set(c.worker, (perWorker.get(c.worker) ?? 0) + 1);
    // 24 connections all on one worker would be a 2^-23 accident of the kernel's hash.
    expect([...perWorker.keys()].sort()).toEqual([0, 1]);

    const stats = await api<{
      active: number;
      byRoute: Record<string, number>;
      workers: Array<{ worker: number; active: number }>;
      cluster: { restarts: number };
    }>('/api/stats');
    expect(stats.active).toBe(24);
    expect(stats.byRoute.echo).toBe(24);
    expect(stats.workers.map((w) => w.active).sort()).toEqual([...perWorker.values()].sort());

    const text = await metrics();
    expect(sample(text, 'sightline_connections_active{route="echo"}')).toBe(24);
    expect(sample(text, 'sightline_cluster_workers{state="listening"}')).toBe(2);
    expect(sample(text, 'sightline_build_info{version="0.1.0",node="' + process.versions.node + '"}')).toBe(1);
    // One round trip closed (client FIN) in one of the workers: counters sum across workers.
    expect(
      sample(text, 'sightline_connections_closed_total{route="echo",reason="client_closed",initiator="client"}'),
    ).toBe(1);
  }, 20_000);

  it('one detector fed by both workers: the pattern is found from the closes of both', async () => {
    // 12 connections cut at 2.2 s, opened 350 ms apart: each worker sees about 6, under the
    // detector's minimum of 8. Which worker took which is read back from /api/connections.
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const s = await open(pAged);
      s.on('error', () => {});
      await new Promise((r) => setTimeout(r, 350));
      const now = await api<{ items: Array<{ worker: number; id: number }> }>('/api/connections?route=aged&limit=100');
      for (const c of now.items) seen.add(`${c.worker}:${c.id}`);
    }
    const perWorker = [0, 1].map((w) => [...seen].filter((k) => k.startsWith(`${w}:`)).length);
    let patterns: Array<{ route: string; kind: string; periodMs: number; count: number }> = [];
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline) {
      patterns = (await api<{ patterns: typeof patterns }>('/api/patterns')).patterns;
      if (patterns.some((p) => p.route === 'aged' && p.count === 12)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const p = patterns.find((x) => x.route === 'aged');
    expect(p?.kind).toBe('age-clustered');
    expect(Math.abs(p!.periodMs - 2200)).toBeLessThan(500);
    // The pattern holds the closes of both workers (each had fewer than all 12).
    expect(perWorker[0]! + perWorker[1]!).toBe(12);
    expect(Math.min(...perWorker)).toBeGreaterThan(0);
    expect(p!.count).toBe(12);
    const closes = await api<{
      workers: Array<{ worker: number }>;
      terminations: { byReason: Record<string, Record<string, number>> };
    }>('/api/stats');
    expect(
      closes.terminations.byReason.backend_reset?.backend ?? closes.terminations.byReason.backend_closed?.backend,
    ).toBeGreaterThanOrEqual(12);
    const text = await metrics();
    expect(sample(text, 'sightline_disconnect_patterns_total{route="aged",kind="age-clustered"}')).toBe(1);
    expect(sample(text, 'sightline_disconnect_pattern_period_seconds{route="aged",kind="age-clustered"}')).toBeCloseTo(
      2.2,
      0,
    );
  }, 20_000);

  it('a killed worker is restarted with its connections recorded as closed', async () => {
    const conns = await api<{ items: Array<{ worker: number; route: string }> }>(
      '/api/connections?route=echo&limit=1000',
    );
    const onWorker0 = conns.items.filter((c) => c.worker === 0).length;
    const stats = await api<{ cluster: { workers: Array<{ worker: number; pid: number }> } }>('/api/stats');
    const pid = stats.cluster.workers.find((w) => w.worker === 0)!.pid;
    const beforeText = await metrics();
    const before = sample(
      beforeText,
      'sightline_connections_closed_total{route="echo",reason="internal_error",initiator="proxy"}',
    );
    const acceptedBefore = sample(beforeText, `sightline_connections_accepted_total{port="${pEcho}"}`);
    process.kill(pid, 'SIGKILL');
    await cli.waitFor(/worker 0 \(pid \d+\) died \(signal SIGKILL\) with \d+ open connections?; restarting in 100 ms/);
    let after: { active: number; cluster: { restarts: number; workers: Array<{ ready: boolean; pid: number }> } };
    const deadline = Date.now() + 10_000;
    do {
      await new Promise((r) => setTimeout(r, 200));
      after = await api('/api/stats');
    } while (!(after.cluster.workers.every((w) => w.ready) && after.cluster.restarts === 1) && Date.now() < deadline);
    expect(after.cluster.restarts).toBe(1);
    expect(after.cluster.workers.every((w) => w.ready)).toBe(true);
    expect(after.cluster.workers[0]!.pid).not.toBe(pid);
    const text = await metrics();
    expect(
      sample(text, 'sightline_connections_closed_total{route="echo",reason="internal_error",initiator="proxy"}') -
        (Number.isNaN(before) ? 0 : before),
    ).toBe(onWorker0);
    expect(sample(text, 'sightline_cluster_worker_restarts_total')).toBe(1);
    // The dead worker's counters stay in the sums: no drop (Prometheus would read a reset).
    expect(sample(text, `sightline_connections_accepted_total{port="${pEcho}"}`)).toBeGreaterThanOrEqual(
      acceptedBefore,
    );
    await echoRoundTrip(pEcho, 'still served');
  }, 20_000);

  it('SIGHUP: a bad file changes nothing; a good one reaches every worker', async () => {
    writeFileSync(cfg, 'routes: [ { name: broken } ]\n');
    cli.child.kill('SIGHUP');
    await cli.waitFor(/reload refused, nothing changed: invalid configuration/);
    writeFileSync(cfg, config(true));
    cli.child.kill('SIGHUP');
    await cli.waitFor(/reloaded .* in all 2 workers \(generation \d+\), file sha256 [0-9a-f]{12}/);
    // Every worker reports the generation and the file it runs (a worker left behind would show).
    const hash = /in all 2 workers \(generation \d+\), file sha256 ([0-9a-f]{12})/.exec(cli.err)![1];
    const perWorker = (await api<{ workers: Array<{ configGeneration: number; configHash: string }> }>('/api/stats'))
      .workers;
    expect(perWorker.map((w) => w.configHash)).toEqual([hash, hash]);
    // Generations count per process (a restarted worker starts at 1): each took this reload.
    for (const w of perWorker) expect(w.configGeneration).toBeGreaterThanOrEqual(2);
    // Both workers listen on the new port: many connections all succeed and reach both.
    for (let i = 0; i < 16; i++) await open(pNew);
    const conns = await api<{ items: Array<{ worker: number }> }>('/api/connections?route=added&limit=100');
    await waitFor(() => true, 1);
    expect(new Set(conns.items.map((c) => c.worker)).size).toBe(2);

    // A valid file a worker cannot apply (its new port is taken): reported, nothing changed.
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, HOST, r));
    const busy = (taken.address() as net.AddressInfo).port;
    writeFileSync(cfg, config(true).replace(`ports: ${pNew}`, `ports: ${busy}`));
    cli.child.kill('SIGHUP');
    await cli.waitFor(/reload failed in 2 of 2 workers \(worker 0: .*EADDRINUSE.*\); no worker changed/);
    taken.close();
    await echoRoundTrip(pNew, 'the previous routes still serve');
  }, 20_000);

  it('a worker restarted after an edit no SIGHUP applied runs what the others run', async () => {
    const [pEdit] = await freePorts(1);
    writeFileSync(cfg, config(true).replace(`ports: ${pNew}`, `ports: ${pEdit}`));
    const stats = await api<{ cluster: { workers: Array<{ worker: number; pid: number }>; restarts: number } }>(
      '/api/stats',
    );
    const pid = stats.cluster.workers.find((w) => w.worker === 1)!.pid;
    process.kill(pid, 'SIGKILL');
    let after = stats;
    const deadline = Date.now() + 10_000;
    do {
      await new Promise((r) => setTimeout(r, 200));
      after = await api('/api/stats');
    } while (
      !(
        after.cluster.restarts === stats.cluster.restarts + 1 &&
        after.cluster.workers.every((w) => (w as unknown as { ready: boolean }).ready)
      ) &&
      Date.now() < deadline
    );
    expect(after.cluster.restarts).toBe(stats.cluster.restarts + 1);
    // The edit's port: nobody listens (the restarted worker did not load the edit)...
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(pEdit, HOST, () => resolve('connected'));
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    // ...and both workers serve the applied route (many connections reach both).
    for (let i = 0; i < 16; i++) await echoRoundTrip(pNew, `applied ${i}`);
    const routes = await api<{ routes: Array<{ name: string }> }>('/api/routes');
    expect(routes.routes.map((r) => r.name).sort()).toEqual(['added', 'aged', 'echo']);
  }, 20_000);

  it('SIGTERM drains every worker and exits 0', async () => {
    const ends = sockets.filter((s) => !s.destroyed).map((s) => new Promise<void>((r) => s.once('close', () => r())));
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.err).toContain('SIGTERM received: draining 2 workers');
    expect(cli.err).toContain('stopped');
    await Promise.all(ends);
  }, 20_000);
});

describe('sightline start --workers 2 that cannot start', () => {
  it('a route port taken by another program: exit 2 with the reason, no restart loop', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, HOST, r));
    const port = (taken.address() as net.AddressInfo).port;
    const d = mkdtempSync(path.join(os.tmpdir(), 'sightline-cluster-'));
    const file = path.join(d, 'sightline.yaml');
    writeFileSync(
      file,
      `listenHost: 127.0.0.1\nadmin: { enabled: false }\nroutes:\n  - { name: r, match: { ports: ${port} }, action: { type: forward, target: { host: ${HOST}, port: 9 } } }\n`,
    );
    const { sightline } = await import('../helpers/cli.js');
    const r = await sightline(['start', '-c', file, '--workers', '2']);
    taken.close();
    rmSync(d, { recursive: true, force: true });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /sightline: worker \d: cannot listen on a configured port.*port \d+ on 127\.0\.0\.1: EADDRINUSE/,
    );
    expect(r.err).not.toContain('restarting');
  }, 20_000);

  it('--workers must be a count or auto', async () => {
    const { sightline } = await import('../helpers/cli.js');
    const r = await sightline(['start', '-c', 'examples/quickstart.yaml', '--workers', 'many']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--workers must be a number from 1 to 256 or \'auto\', not "many"');
  });
});
