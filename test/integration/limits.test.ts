/**
 * Admission: every limit and list, including IPv6 and IPv4-mapped addresses. Each refusal has its
 * own close reason and is counted in termination statistics, including refusals at accept.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { ManualClock } from '../../src/core/clock.js';
import type { SightlineOptions } from '../../src/config/schema.js';
import { closed, customServer, freePort, readBytes, type TestServer } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Backend that greets with '+', so an admitted connection is told apart from a refused one. */
async function greeter(): Promise<TestServer> {
  return customServer(
    (s) => {
      s.on('error', () => {});
      s.write('+');
      s.resume();
    },
    { allowHalfOpen: false },
  ); // ends its side when the client does, so slots free up
}

interface Lim {
  p: RunningProxy;
  port: number;
  host: string;
  /** Connect from `from`; resolves 'ok' when admitted or the close reason when refused. */
  attempt(from?: string): Promise<{ result: string; socket: net.Socket }>;
}

async function limits(opts: Partial<SightlineOptions>, listenHost = '127.0.0.1', deps = {}): Promise<Lim> {
  const be = await greeter();
  const port = await freePort();
  const routes = (
    opts.routes ?? [
      { name: 'r', match: { ports: port }, action: { type: 'forward', target: { host: '127.0.0.1', port: be.port } } },
    ]
  ).map((r) => ({
    ...r,
    match: { ...r.match, ports: port },
    action: { type: 'forward' as const, target: { host: '127.0.0.1', port: be.port } },
  }));
  const p = await startProxy({ gracefulShutdownTimeout: 100, ...opts, listenHost, routes } as SightlineOptions, deps);
  const sockets: net.Socket[] = [];
  cleanup.push(
    () => be.close(),
    () => p.stop(),
    () => sockets.forEach((s) => s.destroy()),
  );
  const connectHost = listenHost.startsWith('::ffff:') ? '127.0.0.1' : listenHost;
  return {
    p,
    port,
    host: listenHost,
    async attempt(from) {
      const s = net.connect({ host: connectHost, port, localAddress: from, allowHalfOpen: true });
      sockets.push(s);
      s.on('error', () => {});
      await new Promise<void>((r) => s.once('connect', () => r()));
      const local = s.localPort;
      const first = await readBytes(s, 1, 3000);
      if (first.toString() === '+') return { result: 'ok', socket: s };
      await closed(s);
      const ev = await p.events.next((e) => e.conn.remotePort === local);
      return { result: ev.reason, socket: s };
    },
  };
}

const counted = (p: RunningProxy, reason: string): number =>
  Object.values(p.proxy.getStats().getTerminationStats().byReason[reason] ?? {}).reduce((a, b) => a + b, 0);

describe('global limits', () => {
  it('defaults.security.maxConnections: refuses past the cap, admits again once one closes', async () => {
    const l = await limits({ defaults: { security: { maxConnections: 2 } } });
    const a = await l.attempt();
    const b = await l.attempt();
    expect([a.result, b.result]).toEqual(['ok', 'ok']);
    expect((await l.attempt()).result).toBe('global_connection_limit');
    a.socket.destroy();
    await closed(a.socket);
    await new Promise((r) => setTimeout(r, 50));
    expect((await l.attempt()).result).toBe('ok');
    expect(counted(l.p, 'global_connection_limit')).toBe(1);
  });

  it('maxConnectionsPerIP: per source address', async () => {
    const l = await limits({ maxConnectionsPerIP: 2 });
    expect((await l.attempt('127.0.0.1')).result).toBe('ok');
    expect((await l.attempt('127.0.0.1')).result).toBe('ok');
    expect((await l.attempt('127.0.0.1')).result).toBe('ip_connection_limit');
    expect((await l.attempt('127.0.0.2')).result).toBe('ok');
    expect(counted(l.p, 'ip_connection_limit')).toBe(1);
  });

  it('connectionRateLimitPerMinute: refuses the excess, admits again after the window slides', async () => {
    const clock = new ManualClock(Date.now());
    const l = await limits({ connectionRateLimitPerMinute: 3 }, '127.0.0.1', { clock, autoTick: false });
    for (let i = 0; i < 3; i++) {
      const a = await l.attempt();
      expect(a.result).toBe('ok');
      a.socket.destroy();
    }
    expect((await l.attempt()).result).toBe('rate_limited');
    expect((await l.attempt('127.0.0.2')).result).toBe('ok'); // another IP has its own budget
    clock.advance(125_000);
    expect((await l.attempt()).result).toBe('ok');
    expect(counted(l.p, 'rate_limited')).toBe(1);
  });

  it('ipBlockList and ipAllowList (block wins)', async () => {
    const l = await limits({ defaults: { security: { ipAllowList: ['127.0.0.0/8'], ipBlockList: ['127.0.0.2'] } } });
    expect((await l.attempt('127.0.0.1')).result).toBe('ok');
    expect((await l.attempt('127.0.0.2')).result).toBe('ip_blocked');
    const only = await limits({ defaults: { security: { ipAllowList: ['127.0.0.1'] } } });
    expect((await only.attempt('127.0.0.3')).result).toBe('ip_blocked');
    expect((await only.attempt('127.0.0.1')).result).toBe('ok');
  });

  it('IPv6 clients and IPv4-mapped addresses are matched by the lists', async () => {
    const v6 = await limits({ defaults: { security: { ipBlockList: ['::1'] } } }, '::1');
    expect((await v6.attempt()).result).toBe('ip_blocked');
    const v6ok = await limits({ defaults: { security: { ipBlockList: ['2001:db8::/32'] } } }, '::1');
    expect((await v6ok.attempt()).result).toBe('ok');
    // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; plain IPv4 rules still apply.
    const mapped = await limits({ defaults: { security: { ipBlockList: ['127.0.0.2'] } } }, '::ffff:127.0.0.1');
    expect((await mapped.attempt('127.0.0.2')).result).toBe('ip_blocked');
    expect((await mapped.attempt('127.0.0.1')).result).toBe('ok');
    const rec = [...mapped.p.proxy.connectionManager.getConnections().values()][0]!;
    expect(rec.remoteIP).toBe('127.0.0.1');
    const mappedCidr = await limits(
      { defaults: { security: { ipBlockList: ['::ffff:127.0.0.0/104'] } } },
      '::ffff:127.0.0.1',
    );
    expect((await mappedCidr.attempt('127.0.0.9')).result).toBe('ip_blocked');
  });
});

describe('route limits', () => {
  const route = (security: Record<string, unknown>) => [
    {
      name: 'guarded',
      match: { ports: 1 },
      action: { type: 'forward' as const, target: { host: 'x', port: 1 } },
      security,
    },
  ];

  it('route maxConnections', async () => {
    const l = await limits({ routes: route({ maxConnections: 1 }) });
    const first = await l.attempt();
    expect(first.result).toBe('ok');
    expect((await l.attempt()).result).toBe('route_connection_limit');
    first.socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect((await l.attempt()).result).toBe('ok');
  });

  it('route maxConnectionsPerIP (0 = unlimited elsewhere)', async () => {
    const l = await limits({ maxConnectionsPerIP: 0, routes: route({ maxConnectionsPerIP: 1 }) });
    expect((await l.attempt('127.0.0.1')).result).toBe('ok');
    expect((await l.attempt('127.0.0.1')).result).toBe('route_ip_connection_limit');
    expect((await l.attempt('127.0.0.2')).result).toBe('ok');
  });

  it('route ipBlockList / ipAllowList (block wins)', async () => {
    const l = await limits({ routes: route({ ipAllowList: ['127.0.0.1', '127.0.0.2'], ipBlockList: ['127.0.0.2'] }) });
    expect((await l.attempt('127.0.0.1')).result).toBe('ok');
    expect((await l.attempt('127.0.0.2')).result).toBe('route_ip_blocked');
    expect((await l.attempt('127.0.0.3')).result).toBe('route_ip_blocked');
    expect(counted(l.p, 'route_ip_blocked')).toBe(2);
  });

  it('the seed example 3: maxConnections 0 and maxConnectionsPerIP 0 mean unlimited', async () => {
    const l = await limits({ maxConnectionsPerIP: 0, routes: route({ maxConnections: 0, maxConnectionsPerIP: 0 }) });
    const all = await Promise.all([...Array(20)].map(() => l.attempt()));
    expect(all.every((a) => a.result === 'ok')).toBe(true);
  });
});
