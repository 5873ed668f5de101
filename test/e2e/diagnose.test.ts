/**
 * `sightline diagnose` as a user runs it (needs `npm run build`): against an in-process proxy
 * whose backend kills every connection at a fixed age (exit 1, a report naming the route, the
 * period and the culprits), against a healthy proxy (exit 0), against nothing (exit 2), and in
 * `--prometheus` mode against a fake Prometheus on loopback serving canned /api/v1/query answers.
 * The CLI runs as a child process (spawn, not spawnSync: the proxy lives in this process).
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { FINGERPRINT_BUCKETS_SECONDS } from '../../src/telemetry/fingerprints.js';
import { customServer, echoServer, freePort, waitFor, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';
import { sightline, type CliResult } from '../helpers/cli.js';

const TOKEN = 'diag-token';
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const diagnose = (args: string[]): Promise<CliResult> => sightline(['diagnose', ...args]);

async function proxyTo(backendPort: number, route: string): Promise<{ p: RunningProxy; port: number }> {
  const port = await freePort();
  const p = await startProxy({
    gracefulShutdownTimeout: 100,
    maxConnectionsPerIP: 0,
    connectionRateLimitPerMinute: 0,
    admin: { enabled: true, port: 0, token: TOKEN },
    routes: [
      { name: route, match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: backendPort } } },
    ],
  });
  cleanup.push(() => p.stop());
  return { p, port };
}

/** `n` connections `gapMs` apart, each answering the far side's FIN with its own. */
async function staggered(port: number, n: number, gapMs: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, HOST);
    s.on('error', () => {});
    s.on('end', () => s.end());
    cleanup.push(() => void s.destroy());
    await new Promise((r) => setTimeout(r, gapMs));
  }
}

describe('sightline diagnose --admin', () => {
  it('a fixed-age kill: exit 1, the route, the period, who closed, the culprits and what to check', async () => {
    // The backend closes every connection 3 s after accepting it, idle or not.
    const be = await customServer((s) => {
      s.on('error', () => {});
      const t = setTimeout(() => s.end(), 3000);
      s.on('close', () => clearTimeout(t));
    });
    cleanup.push(() => be.close());
    const { p, port } = await proxyTo(be.port, 'fixed-age');
    await staggered(port, 12, 400);
    await waitFor(() => p.proxy.telemetry!.standingPatterns().length === 1, 12_000, 'a pattern');
    const admin = p.proxy.adminUrl!;

    const r = await diagnose(['--admin', admin, '--token', TOKEN]);
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    expect(r.out).toContain(`the admin API at ${admin}`);
    expect(r.out).toContain('route fixed-age: DISCONNECT PATTERN (age-clustered)');
    expect(r.out).toMatch(
      /connections on route fixed-age are being closed at (2\.9|3\.0|3\.1) s ± \d\.\d s of age, by the backend side/,
    );
    expect(r.out).toMatch(/\d+ closes make up the pattern/);
    expect(r.out).toContain('closed by: backend (a FIN/RST from that side, not a Sightline decision)');
    expect(r.out).toMatch(
      /duration histogram: \d+ of \d+ closes on this route since the proxy started lasted 1\.5–3\.5 s/,
    );
    expect(r.out).toMatch(/close reasons on this route since the proxy started: backend_closed \d+ \(backend\)/);
    expect(r.out).toContain('likely culprits (fingerprint table, 3.0 s):');
    expect(r.out).toContain('a proxy read deadline introduced by an upgrade');
    expect(r.out).toContain('what to check:');
    expect(r.out).toContain('something between Sightline and the backend');
    expect(r.out).toMatch(/result: 1 disconnect pattern on 1 route \(exit 1\)\n$/);

    const j = await diagnose(['--admin', admin, '--token', TOKEN, '--json']);
    expect(j.code).toBe(1);
    const rep = JSON.parse(j.out) as {
      exitCode: number;
      findings: number;
      routes: Array<{ route: string; status: string; findings: Array<Record<string, unknown>> }>;
    };
    expect(rep).toMatchObject({ exitCode: 1, findings: 1 });
    const f = rep.routes[0]!.findings[0]!;
    expect(f).toMatchObject({ route: 'fixed-age', kind: 'age-clustered', initiator: 'backend', local: false });
    expect(Math.abs((f.periodSeconds as number) - 3)).toBeLessThan(0.25);
    expect((f.culprits as string[]).length).toBeGreaterThan(0);

    const noToken = await diagnose(['--admin', admin]);
    expect(noToken.code).toBe(2);
    expect(noToken.err).toMatch(/answered 401: it needs a bearer token \(pass --token\)/);
  }, 30_000);

  it('a healthy proxy: exit 0, one healthy line per route', async () => {
    const be = await echoServer();
    cleanup.push(() => be.close());
    const { p, port } = await proxyTo(be.port, 'api');
    for (let i = 0; i < 3; i++) {
      const s = net.connect(port, HOST);
      s.on('error', () => {});
      s.resume();
      await new Promise<void>((r) => s.once('connect', () => r()));
      s.end('ping');
      await new Promise((r) => s.once('close', r));
    }
    await waitFor(() => p.events.events.length >= 3, 5000, '3 closes');
    const r = await diagnose(['--admin', p.proxy.adminUrl!, '--token', TOKEN]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/route api: healthy \(3 closes: client_closed 3; 0 open; no disconnect pattern\)/);
    expect(r.out).toMatch(/result: no disconnect pattern \(exit 0\)\n$/);
  }, 20_000);

  it('unreachable URL and bad usage: exit 2 with a one-line message', async () => {
    const dead = await freePort();
    const r = await diagnose(['--admin', `http://127.0.0.1:${dead}/`]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      `sightline diagnose: cannot reach the Sightline admin API at http://127.0.0.1:${dead}/api/patterns: connection refused (ECONNREFUSED)\n`,
    );

    const none = await diagnose([]);
    expect(none.code).toBe(2);
    expect(none.err).toContain('give exactly one of --admin or --prometheus');
    const both = await diagnose(['--admin', 'http://127.0.0.1:1/', '--prometheus', 'http://127.0.0.1:2/']);
    expect(both.code).toBe(2);
    const notUrl = await diagnose(['--admin', 'localhost']);
    expect(notUrl.code).toBe(2);
    expect(notUrl.err).toContain('is not a URL');
    const badWindow = await diagnose(['--prometheus', 'http://127.0.0.1:1/', '--window', 'an hour']);
    expect(badWindow.code).toBe(2);
    expect(badWindow.err).toContain('--window must be a Prometheus duration');
    for (const x of [r, none, both, notUrl, badWindow]) expect(x.err.trim().split('\n')).toHaveLength(1);
  }, 20_000);
});

// ---- --prometheus against a fake Prometheus --------------------------------------------------

type Series = Array<{ metric: Record<string, string>; value: number }>;

/** Cumulative buckets on the real edges for `n` closes all lasting `seconds`. */
function buckets(route: string, initiator: string, seconds: number, n: number): Series {
  const les = [...FINGERPRINT_BUCKETS_SECONDS.map(String), '+Inf'];
  return les.map((le) => ({ metric: { route, initiator, le }, value: le === '+Inf' || Number(le) >= seconds ? n : 0 }));
}

interface FakeAnswers {
  patterns: Series;
  closes: Series;
  duration: Series;
  idle: Series;
  active: Series;
}

async function fakePrometheus(a: FakeAnswers): Promise<{ url: string; queries: string[] }> {
  const queries: string[] = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname !== '/prom/api/v1/query') {
      res.writeHead(404).end('not found');
      return;
    }
    const q = u.searchParams.get('query') ?? '';
    queries.push(q);
    const pick: Series | null = q.includes('sightline_disconnect_pattern_period_seconds')
      ? a.patterns
      : q.includes('sightline_connections_closed_total')
        ? a.closes
        : q.includes('sightline_connection_duration_seconds_bucket')
          ? a.duration
          : q.includes('sightline_connection_idle_at_close_seconds_bucket')
            ? a.idle
            : q.includes('sightline_connections_active')
              ? a.active
              : null;
    res.setHeader('content-type', 'application/json');
    if (pick === null) {
      res.writeHead(400).end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'unexpected query' }));
      return;
    }
    const result = pick.map((s) => ({ metric: s.metric, value: [1_700_000_000.123, String(s.value)] }));
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://${HOST}:${(server.address() as net.AddressInfo).port}/prom`, queries };
}

const healthyEcho = {
  closes: [{ metric: { route: 'echo', reason: 'client_closed', initiator: 'client' }, value: 119.6 }],
  duration: buckets('echo', 'client', 0.05, 120),
  idle: buckets('echo', 'client', 0.01, 120),
};

describe('sightline diagnose --prometheus', () => {
  it('the 30-second drop from a pattern gauge and the histograms: exit 1 with the culprits', async () => {
    const prom = await fakePrometheus({
      patterns: [{ metric: { route: 'ws-behind-lb', kind: 'age-clustered' }, value: 30.004 }],
      closes: [
        { metric: { route: 'ws-behind-lb', reason: 'backend_closed', initiator: 'backend' }, value: 57.2 },
        ...healthyEcho.closes,
      ],
      duration: [...buckets('ws-behind-lb', 'backend', 30, 57), ...healthyEcho.duration],
      idle: [...buckets('ws-behind-lb', 'backend', 29.9, 57), ...healthyEcho.idle],
      active: [
        { metric: { route: 'ws-behind-lb' }, value: 15 },
        { metric: { route: 'echo' }, value: 3 },
      ],
    });
    const r = await diagnose(['--prometheus', prom.url, '--window', '30m']);
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    expect(r.out).toContain(`Prometheus at ${prom.url}/ (counts over the last 30m)`);
    expect(r.out).toContain(
      'connections on route ws-behind-lb are being closed at 30.0 s of age, by the backend side, idle at close ≈ 30 s',
    );
    expect(r.out).toContain('57 closes make up the pattern');
    expect(r.out).toContain(
      'duration histogram: 57 of 57 closes on this route over the last 30m lasted 28–32 s; idle-at-close histogram: 57 had been idle 28–32 s',
    );
    expect(r.out).toContain('close reasons on this route over the last 30m: backend_closed 57 (backend)');
    // The backend side closed: HAProxy's `timeout server`, not `timeout client`.
    expect(r.out).toContain('HAProxy `timeout server 30s` without `timeout tunnel`');
    expect(r.out).not.toContain('timeout client 30s');
    expect(r.out).toContain('Azure Application Gateway backend timeout (30 s)');
    expect(r.out).toContain("an upstream load balancer's idle timeout");
    expect(r.out).toContain('route echo: healthy (120 closes: client_closed 120; 3 open; no disconnect pattern)');
    expect(prom.queries).toContain(
      'sum by (route, reason, initiator) (increase(sightline_connections_closed_total[30m]))',
    );
    expect(prom.queries).toContain('max by (route, kind) (sightline_disconnect_pattern_period_seconds)');
  });

  it('Sightline closing idle connections itself: the report names its own options', async () => {
    const prom = await fakePrometheus({
      patterns: [{ metric: { route: 'passthrough', kind: 'age-clustered' }, value: 30 }],
      closes: [{ metric: { route: 'passthrough', reason: 'half_zombie', initiator: 'proxy' }, value: 40 }],
      duration: buckets('passthrough', 'proxy', 30.5, 40),
      idle: buckets('passthrough', 'proxy', 30.2, 40),
      active: [],
    });
    const r = await diagnose(['--prometheus', prom.url, '--selector', 'job="sightline"']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('by Sightline itself, idle at close ≈ 30 s');
    expect(r.out).toContain('closed by: proxy (a Sightline decision)');
    expect(r.out).toContain('`lifecycle.halfZombieGrace`');
    expect(r.out).toContain(
      'a heartbeat or half-zombie grace (30 s) applied where pings cannot flow (SNI passthrough)',
    );
    expect(prom.queries).toContain(
      'sum by (route, initiator, le) (increase(sightline_connection_duration_seconds_bucket{job="sightline"}[1h]))',
    );
  });

  it('no pattern: exit 0; no Sightline series or a refused query: exit 2', async () => {
    const healthy = await fakePrometheus({
      patterns: [],
      ...healthyEcho,
      active: [{ metric: { route: 'echo' }, value: 3 }],
    });
    const ok = await diagnose(['--prometheus', healthy.url]);
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('route echo: healthy');
    expect(ok.out).toContain('result: no disconnect pattern (exit 0)');

    const empty = await fakePrometheus({ patterns: [], closes: [], duration: [], idle: [], active: [] });
    const none = await diagnose(['--prometheus', empty.url]);
    expect(none.code).toBe(2);
    expect(none.err).toContain('has no sightline_* series');

    const notProm = await diagnose(['--prometheus', `${healthy.url}/elsewhere`]);
    expect(notProm.code).toBe(2);
    expect(notProm.err).toMatch(/Prometheus at .*answered HTTP 404/);
  });
});
