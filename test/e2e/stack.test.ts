/**
 * The compose stack (docker-compose.yml, Dockerfile, deploy/, otel/; docs/deploy.md), in three files:
 * stack.test.ts (docker-compose.yml, deploy/sightline.yaml), stack-configs.test.ts (collector,
 * Tempo, Loki, Alertmanager, Prometheus, Dockerfile) and stack-running.test.ts (the stack up).
 *
 * What runs here without a Docker engine: docker-compose 1.29's own validation, the bind-mount
 * sources, `sightline check` on the stack's config, the collector/Tempo/Loki config structure,
 * `amtool check-config` and routing, `promtool check config` (with the repo's rules), the
 * Dockerfile against .dockerignore, and that the files agree with each other (service names,
 * ports, paths). docker-compose (package docker-compose), amtool (prometheus-alertmanager) and
 * promtool (prometheus) come from Debian: a check whose tool is missing is skipped outside CI and
 * fails in CI (CI=true).
 *
 * What needs an engine: stack-running.test.ts brings the stack up with testcontainers and checks Grafana,
 * Prometheus, the exemplar -> Tempo path and Loki. `testcontainers` is loaded dynamically; the
 * test skips with the reason when the module is missing or no engine answers.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { titled } from '../helpers/needs.js';
import {
  at,
  type Obj,
  obj,
  yamlFile,
  requireTool,
  run,
  COMPOSE,
  compose,
  services,
  service,
  type Mount,
  mounts,
  binds,
  generated,
  fileTarget,
  publishedPorts,
} from '../helpers/compose-stack.js';

// ------------------------------------------------------------------------------------------------

describe('compose stack: docker-compose.yml', () => {
  it.skipIf(COMPOSE.skip)(
    titled('docker-compose 1.29 validates it (`docker-compose -f docker-compose.yml config -q`)', COMPOSE),
    () => {
      requireTool(COMPOSE);
      const r = run('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q']);
      expect(r.code, `docker-compose config -q: ${r.err}${r.out}`).toBe(0);
      const names = run('docker-compose', ['-f', 'docker-compose.yml', 'config', '--services']);
      expect(names.code).toBe(0);
      expect(names.out.trim().split('\n').sort()).toEqual(Object.keys(services).sort());
    },
  );

  it('has no top-level name:, the expected services, pinned images and loopback-only ports', () => {
    expect(compose).not.toHaveProperty('name');
    if ('version' in compose) expect(String(compose.version)).toMatch(/^3\.\d+$/);
    for (const s of [
      'sightline',
      'demo-backend',
      'demo-client',
      'otel-collector',
      'prometheus',
      'alertmanager',
      'tempo',
      'loki',
      'grafana',
    ]) {
      expect(services, s).toHaveProperty(s);
    }
    expect(obj(service('sightline').build, 'sightline.build').context).toBe('.');
    const images = Object.fromEntries(Object.entries(services).map(([n, s]) => [n, String(obj(s, n).image ?? '')]));
    expect(images['otel-collector']).toBe('otel/opentelemetry-collector-contrib:0.159.0');
    expect(images.prometheus).toBe('prom/prometheus:v3.15.0');
    expect(images.alertmanager).toMatch(/^prom\/alertmanager:v0\.32\.\d+$/);
    expect(images.tempo).toMatch(/^grafana\/tempo:3\.0\.\d+$/);
    expect(images.loki).toMatch(/^grafana\/loki:3\.7\.\d+$/);
    expect(images.grafana).toMatch(/^grafana\/grafana:13\.2\.\d+$/);
    for (const [n, img] of Object.entries(images)) {
      expect(img, `${n}: image tag pinned`).toMatch(/:[\w.-]+$/);
      expect(img, `${n}: no :latest`).not.toMatch(/:latest$/);
    }
    for (const n of Object.keys(services)) {
      for (const p of publishedPorts(n))
        expect(p.host, `${n} publishes ${p.published} on loopback only`).toBe('127.0.0.1');
    }
    const promArgs = (service('prometheus').command as string[]).join(' ');
    expect(promArgs).toContain('--enable-feature=exemplar-storage');
    expect(promArgs).toContain('--web.enable-lifecycle');
    expect(promArgs).toContain('--config.file=/etc/prometheus/prometheus.yml');
  });

  it("every bind-mount source of the stack's own files exists (a file where the target is a file)", () => {
    const own = binds.filter((m) => !generated(m));
    expect(own.length).toBeGreaterThan(5);
    for (const m of own) {
      const src = at(m.source);
      expect(existsSync(src), `${m.service}: ${m.source} (-> ${m.target}) exists`).toBe(true);
      expect(
        statSync(src).isFile(),
        `${m.service}: ${m.source} is a ${fileTarget(m.target) ? 'file' : 'directory'}`,
      ).toBe(fileTarget(m.target));
      expect(m.readOnly, `${m.service}: ${m.source} mounted read-only`).toBe(true);
    }
  });

  it('the generated mounts exist: ./grafana/provisioning, ./grafana/dashboards, ./prometheus/rules (made by the dashboards/rules work)', () => {
    const gen = binds.filter(generated);
    expect(gen.map((m) => `${m.source} -> ${m.target}`).sort()).toEqual([
      './grafana/dashboards -> /var/lib/grafana/dashboards',
      './grafana/provisioning -> /etc/grafana/provisioning',
      './prometheus/rules -> /etc/prometheus/rules',
    ]);
    const missing = gen
      .filter((m) => !existsSync(at(m.source)) || !statSync(at(m.source)).isDirectory())
      .map((m) => m.source);
    expect(
      missing,
      'missing directories (docker would create them empty, and Grafana/Prometheus would start with nothing)',
    ).toEqual([]);
  });

  it('grafana provisioning points at this stack (dashboards provider path, datasource URLs)', (ctx) => {
    const prov = at('grafana/provisioning');
    if (!existsSync(prov)) return ctx.skip('grafana/provisioning does not exist yet (the previous test fails for it)');
    const yamls = (dir: string): Obj[] =>
      existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => /\.ya?ml$/.test(f))
            .map((f) => obj(parse(readFileSync(path.join(dir, f), 'utf8')), f))
        : [];
    const providers = yamls(path.join(prov, 'dashboards'))
      .flatMap((f) => (f.providers as unknown[] | undefined) ?? [])
      .map((p) => obj(p, 'provider'));
    expect(providers.length, 'a dashboards provider in grafana/provisioning/dashboards/').toBeGreaterThan(0);
    for (const p of providers) {
      const dir = String(obj(p.options, 'provider.options').path ?? '');
      expect(
        dir === '/var/lib/grafana/dashboards' || dir.startsWith('/var/lib/grafana/dashboards/'),
        `provider ${String(p.name)} path ${dir}`,
      ).toBe(true);
    }
    const datasources = yamls(path.join(prov, 'datasources'))
      .flatMap((f) => (f.datasources as unknown[] | undefined) ?? [])
      .map((d) => obj(d, 'datasource'));
    const expected: Record<string, string> = {
      prometheus: 'http://prometheus:9090',
      tempo: 'http://tempo:3200',
      loki: 'http://loki:3100',
      alertmanager: 'http://alertmanager:9093',
    };
    for (const d of datasources) {
      const want = expected[String(d.type)];
      if (want !== undefined)
        expect(String(d.url).replace(/\/+$/, ''), `datasource ${String(d.name)} (${String(d.type)})`).toBe(want);
    }
    expect(datasources.map((d) => String(d.type))).toEqual(expect.arrayContaining(['prometheus', 'tempo', 'loki']));
  });
});

describe('compose stack: deploy/sightline.yaml', () => {
  const cfg = yamlFile('deploy', 'sightline.yaml');

  it('passes `sightline check`', () => {
    const r = run(process.execPath, [at('bin/sightline.js'), 'check', '-c', 'deploy/sightline.yaml']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('ok');
  });

  it('fits the stack: admin on 0.0.0.0 at the scraped port, tracing on, backends and ports wired, logs on the shared volume', () => {
    const admin = obj(cfg.admin, 'admin');
    expect(admin.host).toBe('0.0.0.0');
    const prom = yamlFile('deploy', 'prometheus.yml');
    const job = (prom.scrape_configs as Obj[]).find((j) => j.job_name === 'sightline');
    expect(job, 'prometheus job "sightline"').toBeDefined();
    const targets = (job!.static_configs as Obj[]).flatMap((s) => s.targets as string[]);
    expect(targets).toEqual([`sightline:${String(admin.port ?? 9464)}`]);

    const telemetry = obj(cfg.telemetry, 'telemetry');
    expect(obj(telemetry.tracing, 'tracing').enabled).toBe(true);
    const env = obj(service('sightline').environment, 'sightline.environment');
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
    expect(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL).toBe('http/protobuf');

    const published = new Set(publishedPorts('sightline').map((p) => p.target));
    for (const r of cfg.routes as Obj[]) {
      const target = obj(obj(r.action, 'action').target, 'target');
      expect(Object.keys(services), `route ${String(r.name)} target host is a compose service`).toContain(
        String(target.host),
      );
      const ports = obj(r.match, 'match').ports;
      for (const p of Array.isArray(ports) ? ports : [ports])
        expect(published.has(Number(p)), `route port ${String(p)} published`).toBe(true);
    }
    expect(published.has(Number(admin.port ?? 9464))).toBe(true);

    // The log file is on the volume the collector reads, and its filelog glob matches it.
    const dest = String(obj(telemetry.logging, 'logging').destination);
    expect(dest.startsWith('/')).toBe(true);
    const volumeAt = (svc: string): Mount | undefined =>
      mounts().find((m) => m.service === svc && m.type === 'volume' && m.target === path.posix.dirname(dest));
    const mine = volumeAt('sightline');
    const collectors = volumeAt('otel-collector');
    expect(mine, `sightline mounts a named volume at ${path.posix.dirname(dest)}`).toBeDefined();
    expect(collectors?.source, 'otel-collector mounts the same volume').toBe(mine?.source);
    expect(collectors?.readOnly).toBe(true);
    const filelog = obj(
      obj(yamlFile('otel', 'collector.yaml').receivers, 'receivers')['filelog/sightline'],
      'filelog/sightline',
    );
    const include = (filelog.include as string[]).map(
      (g) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`),
    );
    expect(
      include.some((re) => re.test(dest)),
      `filelog include ${JSON.stringify(filelog.include)} matches ${dest}`,
    ).toBe(true);
  });
});
