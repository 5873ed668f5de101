/**
 * Running out of descriptors is named (issue 11 point 4). The test lowers this worker process's
 * own RLIMIT_NOFILE with `prlimit` (vitest runs each file in its own fork) so that exactly two
 * descriptors are free, then:
 *  - connect-side: the client takes one, the proxy's accept the other, the backend connect gets
 *    EMFILE: the connection closes with `local_resource_exhausted`, initiator proxy (not
 *    `backend_connect_failed`), and /readyz says 503 naming EMFILE;
 *  - backing off: descriptor exhaustion pauses every listener of the proxy (libuv hides accept-
 *    side EMFILE: it accepts and drops with a reserve descriptor), so a new client is refused by
 *    the kernel instead of being accepted and dropped;
 *  - recovery: with the limit back, the listener listens again after its backoff, /readyz is 200
 *    and new connections are carried.
 * /readyz is read over one keep-alive socket opened before the limit drops.
 */
import { execFileSync, spawn } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { CHANNEL_NAMES, type ResourceEvent } from '../../src/core/channels.js';
import { connect, echoServer, freePort, readBytes, waitFor, HOST } from '../helpers/net.js';
import { needCommand } from '../helpers/needs.js';
import { startProxy } from '../helpers/proxy.js';

const prlimit = needCommand('prlimit', 'util-linux');

function softHard(): [number, number] {
  const out = execFileSync(
    'prlimit',
    ['--pid', String(process.pid), '--nofile', '--noheadings', '--raw', '--output=SOFT,HARD'],
    { encoding: 'utf8' },
  ).trim();
  const [soft, hard] = out.split(/\s+/).map(Number);
  return [soft!, hard!];
}

/**
 * Sets this process's limit through a shell started beforehand: spawning `prlimit` needs
 * descriptors, which this process will not have once the limit is low.
 */
function limiter(): { set(soft: number, hard: number): Promise<void>; close(): void } {
  const sh = spawn('sh', [], { stdio: ['pipe', 'pipe', 'inherit'] });
  return {
    set: (soft, hard) =>
      new Promise((resolve) => {
        sh.stdout.once('data', () => resolve());
        sh.stdin.write(`prlimit --pid ${process.pid} --nofile=${soft}:${hard}; echo done\n`);
      }),
    close: () => sh.kill(),
  };
}

/** The soft limit under which exactly `free` descriptor numbers are unused. */
function limitLeaving(free: number): number {
  // The directory listing's own descriptor shows as used; it is free again right after.
  const used = new Set(readdirSync('/proc/self/fd').map(Number));
  let n = 0;
  for (let fd = 0; ; fd++) {
    if (!used.has(fd) && ++n === free - 1) return fd + 1;
  }
}

/** GET /readyz on a kept-alive raw socket: [status, body]. */
async function readyz(s: net.Socket): Promise<[number, Record<string, unknown>]> {
  s.write('GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  let buf = Buffer.alloc(0);
  for (;;) {
    buf = Buffer.concat([buf, await readBytes(s, 1, 3000)]);
    const text = buf.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) continue;
    const len = Number(/content-length: *(\d+)/i.exec(text)?.[1] ?? 0);
    if (buf.length < end + 4 + len) continue;
    return [Number(text.slice(9, 12)), JSON.parse(text.slice(end + 4, end + 4 + len)) as Record<string, unknown>];
  }
}

const restore: Array<() => void> = [];
afterAll(() => {
  for (const f of restore.reverse()) f();
});

describe.skipIf(prlimit.skip)(`descriptor exhaustion ${prlimit.reason}`, () => {
  it('EMFILE on backend connect is local_resource_exhausted (proxy); accepting backs off; /readyz says 503 while it lasts; then it recovers', async () => {
    const echo = await echoServer();
    const port = await freePort();
    const p = await startProxy({
      maxConnectionsPerIP: 0,
      admin: { enabled: true, host: HOST, port: 0 },
      routes: [
        { name: 'tcp', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: echo.port } } },
      ],
    });
    restore.push(() => void echo.close());
    restore.push(() => void p.stop());
    const resource: ResourceEvent[] = [];
    const onResource = (m: unknown): void => void resource.push(m as ResourceEvent);
    diagnostics.subscribe(CHANNEL_NAMES.resource, onResource);
    restore.push(() => diagnostics.unsubscribe(CHANNEL_NAMES.resource, onResource));
    const adminPort = Number(new URL(p.proxy.adminUrl!).port);
    const admin = await connect(adminPort);
    expect(await readyz(admin)).toEqual([200, { live: true, ready: true, draining: false }]);
    const [soft, hard] = softHard();
    const lim = limiter();
    restore.push(() => lim.close());
    restore.push(() => void lim.set(soft, hard));

    // ---- connect side: two free descriptors (client + accepted), none for the backend ----
    await lim.set(limitLeaving(2), hard);
    const a = net.connect({ host: HOST, port });
    a.on('error', () => {});
    const ev = await p.events.next((e) => e.reason !== 'client_closed', 5000);
    expect(ev.reason).toBe('local_resource_exhausted');
    expect(ev.initiator).toBe('proxy');
    expect(ev.error).toBe('EMFILE');
    const [st, body] = await readyz(admin);
    expect(st).toBe(503);
    expect(body).toMatchObject({ ready: false, exhausted: 'EMFILE' });
    a.end();
    await waitFor(() => a.closed, 3000, 'client closed');
    await waitFor(() => p.proxy.getStats().getActiveConnections() === 0, 3000, 'record closed');

    // ---- backing off: every listener stopped accepting (libuv would accept and drop) ----
    expect(resource.map((r) => `${r.kind}/${r.where}`)).toEqual(['exhausted/connect', 'paused/accept']);
    expect(resource[1]).toMatchObject({ code: 'EMFILE', port });
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect({ host: HOST, port });
      s.on('connect', () => resolve('connected'));
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    expect((await readyz(admin))[1]).toMatchObject({ ready: false, exhausted: 'EMFILE' });

    // ---- recovery: descriptors back; the listener listens again after its backoff ----
    await lim.set(soft, hard);
    await waitFor(() => resource.some((r) => r.kind === 'recovered' && r.port === port), 5000, 'listener resumed');
    await waitFor(() => p.proxy.getStats().getActiveConnections() === 0, 3000, 'records closed');
    await new Promise((r) => setTimeout(r, 1100)); // the connect-side hold has passed too
    expect(await readyz(admin)).toEqual([200, { live: true, ready: true, draining: false }]);
    const b = await connect(port);
    b.write('again');
    expect((await readBytes(b, 5)).toString()).toBe('again');
    b.destroy();
    const metrics = (await p.proxy.telemetry!.scrape(false)).body;
    expect(metrics).toMatch(/sightline_resource_exhausted_total\{where="connect"\} [1-9]/);
    expect(metrics).toContain(
      'sightline_connections_closed_total{route="tcp",reason="local_resource_exhausted",initiator="proxy"} 1',
    );
    admin.destroy();
  }, 30_000);
});
