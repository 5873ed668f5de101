// The compose stack running under testcontainers (see stack.test.ts): skipped, with the reason,
// when the module is missing or no Docker engine answers.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { homedir } from 'node:os';
import path from 'node:path';
import { ROOT, at, obj } from '../helpers/compose-stack.js';

// ------------------------------------------------------------------------------------------------
// The stack running (needs a Docker engine with image pulls, and the testcontainers module)
// ------------------------------------------------------------------------------------------------

interface StartedContainer {
  getHost(): string;
  getMappedPort(port: number): number;
}
interface StartedCompose {
  getContainer(name: string): StartedContainer;
  down(opts?: { timeout?: number; removeVolumes?: boolean }): Promise<unknown>;
}
interface ComposeEnvironment {
  withBuild(): ComposeEnvironment;
  withWaitStrategy(container: string, wait: unknown): ComposeEnvironment;
  withStartupTimeout(ms: number): ComposeEnvironment;
  up(services?: string[]): Promise<StartedCompose>;
}
interface Testcontainers {
  DockerComposeEnvironment: new (dir: string, file: string) => ComposeEnvironment;
  Wait: { forHttp(path: string, port: number): unknown; forLogMessage(message: string | RegExp): unknown };
}

async function loadTestcontainers(): Promise<Testcontainers | string> {
  const name = 'testcontainers'; // a devDependency (11.x: 12.x needs Node 22); loaded only when an engine answers
  try {
    const m = (await import(name)) as Partial<Testcontainers>;
    return m.DockerComposeEnvironment && m.Wait
      ? (m as Testcontainers)
      : 'the testcontainers module has no DockerComposeEnvironment';
  } catch {
    return 'the testcontainers module is not installed (npm i -D testcontainers)';
  }
}

function ping(opts: http.RequestOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ ...opts, path: '/_ping', timeout: 3_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** null when an engine answers /_ping; otherwise why not. DOCKER_HOST first, then the usual sockets. */
async function dockerEngine(): Promise<string | null> {
  const host = process.env.DOCKER_HOST;
  if (host !== undefined && host !== '') {
    if (host.startsWith('unix://'))
      return (await ping({ socketPath: host.slice('unix://'.length) })) ? null : `DOCKER_HOST=${host} does not answer`;
    if (host.startsWith('tcp://')) {
      const u = new URL(host.replace(/^tcp:/, 'http:'));
      return (await ping({ host: u.hostname, port: Number(u.port || 2375) }))
        ? null
        : `DOCKER_HOST=${host} does not answer plain HTTP /_ping`;
    }
    return `DOCKER_HOST=${host} is neither unix:// nor tcp://`;
  }
  const sockets = [
    '/var/run/docker.sock',
    path.join(homedir(), '.docker/run/docker.sock'),
    process.env.XDG_RUNTIME_DIR ? path.join(process.env.XDG_RUNTIME_DIR, 'docker.sock') : '',
  ].filter((s) => s !== '' && existsSync(s));
  if (sockets.length === 0) return 'DOCKER_HOST is unset and no Docker socket exists (/var/run/docker.sock)';
  for (const s of sockets) if (await ping({ socketPath: s })) return null;
  return `no Docker engine answers on ${sockets.join(', ')}`;
}

async function getJson(url: string, auth?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {},
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body };
}
async function eventually<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 3_000));
  }
  throw new Error(`${what}: not within ${ms / 1000} s${last ? ` (${String(last)})` : ''}`);
}

const TC = await loadTestcontainers();
const ENGINE = typeof TC === 'string' ? null : await dockerEngine();
const STACK_SKIP = typeof TC === 'string' ? TC : ENGINE;
if (STACK_SKIP !== null) console.warn(`stack e2e: the running-stack test is skipped: ${STACK_SKIP}`);

describe('compose stack: running (testcontainers)', () => {
  it(
    'comes up: Grafana and Prometheus healthy, Sightline scraped, datasources and dashboards provisioned, exemplar -> Tempo trace, logs in Loki',
    { timeout: 25 * 60_000 },
    async (ctx) => {
      if (STACK_SKIP !== null || typeof TC === 'string')
        return ctx.skip(`needs testcontainers and a Docker engine: ${STACK_SKIP ?? ''}`);
      const { DockerComposeEnvironment, Wait } = TC;
      // Explicit waits for every container with published ports: the default (listening ports)
      // probes from inside the container and needs a shell, which the collector/Tempo/Loki images lack.
      const env = await new DockerComposeEnvironment(ROOT, 'docker-compose.yml')
        .withBuild()
        .withWaitStrategy('sightline-1', Wait.forHttp('/readyz', 9464))
        .withWaitStrategy('prometheus-1', Wait.forHttp('/-/ready', 9090))
        .withWaitStrategy('alertmanager-1', Wait.forHttp('/-/ready', 9093))
        .withWaitStrategy('grafana-1', Wait.forHttp('/api/health', 3000))
        .withWaitStrategy('tempo-1', Wait.forHttp('/ready', 3200))
        .withWaitStrategy('loki-1', Wait.forHttp('/ready', 3100))
        .withWaitStrategy('otel-collector-1', Wait.forLogMessage(/Everything is ready/))
        .withStartupTimeout(15 * 60_000)
        .up();
      try {
        const url = (svc: string, port: number): string => {
          const c = env.getContainer(`${svc}-1`);
          return `http://${c.getHost()}:${c.getMappedPort(port)}`;
        };
        const grafana = url('grafana', 3000);
        const prometheus = url('prometheus', 9090);
        const auth = `admin:${process.env.GRAFANA_ADMIN_PASSWORD ?? 'admin'}`;

        const health = await getJson(`${grafana}/api/health`);
        expect(health.status).toBe(200);
        expect(obj(health.body, 'grafana health').database).toBe('ok');
        expect((await fetch(`${prometheus}/-/ready`)).status).toBe(200);
        expect((await fetch(`${url('alertmanager', 9093)}/-/ready`)).status).toBe(200);

        // Prometheus scrapes Sightline.
        await eventually('up{job="sightline"} == 1', 120_000, async () => {
          const r = obj(
            (await getJson(`${prometheus}/api/v1/query?query=${encodeURIComponent('up{job="sightline"}')}`)).body,
            'query',
          );
          const result = obj(r.data, 'data').result as { value: [number, string] }[];
          return result[0]?.value[1] === '1' ? true : undefined;
        });
        // The repo's rules are loaded.
        const ruleFiles = existsSync(at('prometheus/rules'))
          ? readdirSync(at('prometheus/rules')).filter((f) => /\.ya?ml$/.test(f))
          : [];
        if (ruleFiles.length > 0) {
          const rules = obj((await getJson(`${prometheus}/api/v1/rules`)).body, 'rules');
          expect((obj(rules.data, 'data').groups as unknown[]).length).toBeGreaterThan(0);
        }

        // Grafana: datasources and dashboards from ./grafana.
        const ds = (await getJson(`${grafana}/api/datasources`, auth)).body as { type: string }[];
        expect(ds.map((d) => d.type)).toEqual(expect.arrayContaining(['prometheus', 'tempo', 'loki']));
        const dashFiles = existsSync(at('grafana/dashboards'))
          ? readdirSync(at('grafana/dashboards'), { recursive: true }).filter((f) => String(f).endsWith('.json'))
          : [];
        const dashboards = (await getJson(`${grafana}/api/search?type=dash-db`, auth)).body as unknown[];
        expect(dashboards.length).toBeGreaterThanOrEqual(dashFiles.length);

        // Exemplar -> Tempo: demo-client's broken-backend connections are always traced.
        const traceId = await eventually('an exemplar with a trace_id', 180_000, async () => {
          const now = Date.now() / 1000;
          const q = encodeURIComponent('sightline_connection_duration_seconds_bucket');
          const r = obj(
            (await getJson(`${prometheus}/api/v1/query_exemplars?query=${q}&start=${now - 600}&end=${now}`)).body,
            'exemplars',
          );
          for (const series of (r.data as { exemplars: { labels: Record<string, string> }[] }[] | undefined) ?? []) {
            for (const e of series.exemplars) if (e.labels.trace_id) return e.labels.trace_id;
          }
          return undefined;
        });
        await eventually(`trace ${traceId} in Tempo`, 120_000, async () =>
          (await fetch(`${url('tempo', 3200)}/api/traces/${traceId}`)).status === 200 ? true : undefined,
        );

        // Sightline's log file -> collector -> Loki.
        await eventually('Sightline logs in Loki', 180_000, async () => {
          const q = encodeURIComponent('{service_name="sightline"}');
          const r = obj(
            (await getJson(`${url('loki', 3100)}/loki/api/v1/query_range?query=${q}&limit=5&since=15m`)).body,
            'loki',
          );
          return ((obj(r.data, 'data').result as unknown[]) ?? []).length > 0 ? true : undefined;
        });
      } finally {
        await env.down({ timeout: 30, removeVolumes: true }); // seconds
      }
    },
  );
});
