/**
 * The admin server over a hand-written AdminSource fake (test/integration/admin*.test.ts): the fake,
 * a server started on it (each test file closes what it started with `closeStarted` in afterEach),
 * and HTTP and raw-socket clients.
 */
import net from 'node:net';
import { startAdmin, type AdminServer } from '../../src/admin/server.js';
import type {
  AdminSource,
  CloseAges,
  CloseConnectionResult,
  CloseRecord,
  ConnectionDetail,
  ConnectionInfo,
  ConnectionQuery,
  HealthInfo,
  OpenAges,
  PatternInfo,
  RecentCloses,
  RouteInfo,
} from '../../src/admin/source.js';

export const HOST = '127.0.0.1';
export const TOKEN = 's3cret-token';

export const conn = (id: number, over: Partial<ConnectionInfo> = {}): ConnectionInfo => ({
  id,
  route: 'ws',
  client: '10.0.0.7',
  clientPort: 50000 + id,
  listenPort: 8443,
  sni: 'app.example.test',
  target: '127.0.0.1:9000',
  uniqueId: null,
  previousHopId: null,
  phase: 'tunnel',
  tls: true,
  keepAliveTreatment: 'standard',
  ageMs: 30_000 - id,
  idleMs: 1_000,
  bytesIn: 10,
  bytesOut: 20,
  ...over,
});

export class FakeSource implements AdminSource {
  health_: HealthInfo = { live: true, ready: true, draining: false };
  conns: ConnectionInfo[] = [conn(1), conn(2)];
  queries: ConnectionQuery[] = [];
  metricsCalls: boolean[] = [];
  /** Make the next call of this method throw. */
  failNext: string | null = null;

  #maybeFail(name: string): void {
    if (this.failNext === name) {
      this.failNext = null;
      throw new Error(`${name} exploded`);
    }
  }
  async metrics(openMetrics: boolean): Promise<{ contentType: string; body: string }> {
    this.metricsCalls.push(openMetrics);
    this.#maybeFail('metrics');
    return openMetrics
      ? { contentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8', body: 'sightline_up 1\n# EOF\n' }
      : { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'sightline_up 1\n' };
  }
  health(): HealthInfo {
    this.#maybeFail('health');
    return this.health_;
  }
  stats(): Readonly<Record<string, unknown>> {
    this.#maybeFail('stats');
    return { active: this.conns.length, accepted: 7, byRoute: { ws: this.conns.length } };
  }
  connections(q: ConnectionQuery): { readonly total: number; readonly items: readonly ConnectionInfo[] } {
    this.#maybeFail('connections');
    this.queries.push(q);
    return { total: this.conns.length, items: this.conns.slice(0, q.limit) };
  }
  routes(): readonly RouteInfo[] {
    return [
      {
        name: 'ws',
        ports: [8443],
        domains: ['app.example.test'],
        mode: 'passthrough',
        protocol: 'tls',
        target: '127.0.0.1:9000',
        active: 2,
      },
    ];
  }
  patterns(): readonly PatternInfo[] {
    return [{ route: 'ws', periodSeconds: 30, summary: 'route ws: connections die at 30.0 s' }];
  }
  recentCloses(): RecentCloses {
    return {
      bucketMs: 60_000,
      buckets: [
        {
          start: 1_700_000_000_000,
          byReason: { client_closed: 3, inactivity: 1 },
          byInitiator: { client: 3, proxy: 1 },
        },
      ],
    };
  }
  // The status page's views: tested in admin-views.test.ts.
  closeAges = (): CloseAges => ({ windowMs: 900_000, edgesMs: [], routes: [] });
  openAges = (): OpenAges => ({ edgesMs: [], routes: [] });
  closeRecords = (): CloseRecord[] => [];
  connection = (): ConnectionDetail | null => null;
  // POST /api/connections/:id/close: tested against a real proxy in admin-close.test.ts.
  closeConnection = (): CloseConnectionResult => ({ ok: false, status: 404, error: 'none' });
}

/** Servers `start` made: each test file closes them after every test (`closeStarted`). */
const started: AdminServer[] = [];

export async function closeStarted(): Promise<void> {
  for (const a of started.splice(0)) await a.close();
}

export async function start(token?: string): Promise<{ admin: AdminServer; source: FakeSource }> {
  const source = new FakeSource();
  const admin = await startAdmin({ host: HOST, port: 0, token }, source);
  started.push(admin);
  return { admin, source };
}

export const get = (a: AdminServer, path: string, init?: RequestInit): Promise<Response> =>
  fetch(new URL(path, a.url), init);
export const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };

/** Send raw bytes, collect everything until the server closes (or a timeout). */
export function raw(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, HOST);
    let out = '';
    s.setTimeout(5_000, () => {
      s.destroy();
      reject(new Error(`no close; got ${JSON.stringify(out)}`));
    });
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => resolve(out));
    s.write(bytes);
  });
}
