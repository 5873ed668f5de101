/**
 * Fleet-wide diagnosis on a real Prometheus (issue 13 point 5): three Sightline processes (the
 * CLI, as a user runs it) behind which one timer cuts connections at 2.5 s of age, its closes
 * spread evenly over the three (four each: too few for any one process's detector, which needs
 * eight), plus healthy traffic. One Debian `prometheus` scrapes all three with the bundled rules
 * (test scale; the peer-ended band alert watching the 2.5 s fingerprint band, at least 8 closes).
 * The alert must fire on the aggregate, and `sightline diagnose --prometheus` must name the
 * pattern, its period and the three instances.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { customServer, echoServer, echoRoundTrip, freePort, freePorts, HOST, type TestServer } from '../helpers/net.js';
import { sightline } from '../helpers/cli.js';
import { startCli, type RunningCli } from '../helpers/cluster.js';
import { config, renderRules } from '../../monitoring/generate.mjs';
import { needCommand, skipped, titled } from '../helpers/needs.js';

const PROMETHEUS = needCommand('prometheus', 'prometheus');
const INSTANCES = 3;
const PER_INSTANCE = 4;

let dir = '';
let prom: ChildProcess | null = null;
let promUrl = '';
const clis: RunningCli[] = [];
const servers: TestServer[] = [];
const sockets: net.Socket[] = [];
const flakyPorts: number[] = [];
const healthyPorts: number[] = [];

interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  value: string;
}

async function alerts(): Promise<Alert[]> {
  const r = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } };
  return r.data.alerts;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function silent(port: number): void {
  const s = net.connect(port, HOST);
  s.on('error', () => {});
  s.on('data', () => {});
  sockets.push(s);
}

describe.skipIf(skipped(PROMETHEUS))(titled('a fleet of three Sightlines on a real Prometheus', PROMETHEUS), () => {
  beforeAll(async () => {
    // The timer outside Sightline: the backend ends every connection at 2.5 s of age, except a
    // client that says "quick" (the warm-up: its series exist before the pattern's closes).
    const cutter = await customServer((s) => {
      s.on('error', () => {});
      const t = setTimeout(() => s.end(), 2500);
      s.on('data', (d) => {
        if (d.toString() === 'quick') {
          clearTimeout(t);
          s.end();
        }
      });
      s.on('close', () => clearTimeout(t));
    });
    const echo = await echoServer();
    servers.push(cutter, echo);
    dir = mkdtempSync(path.join(os.tmpdir(), 'sightline-fleet-'));
    for (let i = 0; i < INSTANCES; i++) {
      const [pf, ph] = await freePorts(2);
      flakyPorts.push(pf);
      healthyPorts.push(ph);
      const file = path.join(dir, `sightline-${i}.yaml`);
      writeFileSync(
        file,
        [
          'listenHost: 127.0.0.1',
          'maxConnectionsPerIP: 0',
          'connectionRateLimitPerMinute: 0',
          'gracefulShutdownTimeout: 500',
          'admin: { port: 0 }',
          'telemetry: { logging: { level: silent } }',
          'routes:',
          `  - { name: flaky, match: { ports: ${pf} }, action: { type: forward, target: { host: ${HOST}, port: ${cutter.port} } } }`,
          `  - { name: healthy, match: { ports: ${ph} }, action: { type: forward, target: { host: ${HOST}, port: ${echo.port} } } }`,
          '',
        ].join('\n'),
      );
    }
    clis.push(
      ...(await Promise.all(
        Array.from({ length: INSTANCES }, (_, i) => startCli(['start', '-c', path.join(dir, `sightline-${i}.yaml`)])),
      )),
    );

    const c = config({
      scale: 'test',
      window: '1m',
      ruleInterval: '1s',
      alerts: {
        thirtySecondDrops: { band: '2.5s', minCount: 2 * PER_INSTANCE, for: '5s' },
        fixedAgeDisconnects: { for: '5s' },
      },
    });
    writeFileSync(path.join(dir, 'rules.yml'), renderRules(c));
    const targets = clis.map((x) => `'${new URL(x.adminUrl).host}'`).join(', ');
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'rule_files: [rules.yml]',
        'scrape_configs:',
        '  - job_name: sightline',
        `    static_configs: [{ targets: [${targets}] }]`,
        '',
      ].join('\n'),
    );
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    prom = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 20_000;
    while (
      !(await fetch(`${promUrl}/-/ready`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error('prometheus did not become ready');
      await sleep(200);
    }

    // ---- the scenario: warm-up, then the pattern spread evenly, healthy traffic throughout ----
    for (const p of healthyPorts)
      for (let k = 0; k < 2; k++) {
        const s = net.connect(p, HOST);
        s.on('error', () => {});
        const t = setInterval(() => s.writable && s.write('.'), 400);
        s.on('close', () => clearInterval(t));
        sockets.push(s);
      }
    for (const p of flakyPorts) {
      const s = net.connect(p, HOST, () => s.write('quick'));
      s.on('error', () => {});
      sockets.push(s);
    }
    await sleep(3000);
    for (let k = 0; k < PER_INSTANCE; k++) {
      for (let i = 0; i < INSTANCES; i++) {
        silent(flakyPorts[i]!);
        await echoRoundTrip(healthyPorts[i]!, `healthy ${k}`);
        await sleep(300);
      }
    }
  }, 90_000);

  afterAll(async () => {
    prom?.kill('SIGTERM');
    for (const s of sockets) s.destroy();
    for (const c of clis) {
      c.child.kill('SIGTERM');
      await c.exited;
    }
    for (const s of servers) await s.close();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('no single instance holds enough closes for its detector (four each; it needs eight)...', async () => {
    await sleep(3500); // the last pattern connections end at 2.5 s
    for (const c of clis) {
      const r = (await (await fetch(`${c.adminUrl}/api/patterns`)).json()) as { patterns: unknown[] };
      expect(r.patterns).toEqual([]);
      const stats = (await (await fetch(`${c.adminUrl}/api/stats`)).json()) as {
        terminations: { byReason: Record<string, Record<string, number>> };
      };
      // the warm-up and this instance's share of the pattern
      expect(stats.terminations.byReason.backend_closed?.backend).toBe(1 + PER_INSTANCE);
    }
  }, 20_000);

  it('...but the peer-ended band alert fires on the aggregate of the three', async () => {
    let firing: Alert | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && firing === undefined) {
      firing = (await alerts()).find(
        (a) =>
          a.labels.alertname === 'SightlineThirtySecondDrops' && a.labels.route === 'flaky' && a.state === 'firing',
      );
      if (firing === undefined) await sleep(500);
    }
    console.info(`prometheus /api/v1/alerts (fleet): ${JSON.stringify(firing)}`);
    expect(firing?.labels.band).toBe('2.5s');
    // one alert for the route, not one per instance: the aggregate
    expect(firing?.labels.instance).toBeUndefined();
    expect(Number(firing?.value)).toBeGreaterThan(0.5);
    expect((await alerts()).filter((a) => a.labels.route === 'healthy')).toEqual([]);
    // no instance's detector saw it, so the detector-based alert has nothing to fire on
    expect((await alerts()).filter((a) => a.labels.alertname === 'SightlineFixedAgeDisconnects')).toEqual([]);
  }, 70_000);

  it('sightline diagnose --prometheus names the pattern, its period and the three instances', async () => {
    const r = await sightline(['diagnose', '--prometheus', promUrl, '--window', '5m']);
    console.info(`sightline diagnose --prometheus (fleet):\n${r.out}`);
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    expect(r.out).toContain('route flaky: DISCONNECT PATTERN (age-clustered)');
    expect(r.out).toContain(
      'connections on route flaky are being closed at ≈ 2.5 s of age across 3 instances, by the backend side',
    );
    expect(r.out).toMatch(/period ≈ 2\.5 s: the fingerprint value in the 1\.5–3\.5 s bucket/);
    const line = r.out.split('\n').find((l) => l.includes('instances: '));
    for (const c of clis) expect(line).toContain(new URL(c.adminUrl).host);
    expect(r.out).toContain('a proxy read deadline introduced by an upgrade');
    expect(r.out).toMatch(/route healthy: healthy \(.*no disconnect pattern\)/);
  }, 30_000);
});
