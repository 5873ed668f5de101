// The compose stack's other configs: the collector, Tempo and Loki agree; amtool and promtool accept
// theirs; the Dockerfile builds from files the context holds (see stack.test.ts for the whole picture).
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { titled } from '../helpers/needs.js';
import {
  at,
  type Obj,
  obj,
  yamlFile,
  requireTool,
  run,
  AMTOOL,
  PROMTOOL,
  services,
  service,
  binds,
} from '../helpers/compose-stack.js';

describe('compose stack: otel/collector.yaml, tempo, loki', () => {
  const col = yamlFile('otel', 'collector.yaml');

  it('the collector has the required receivers, processors, exporters, extensions and pipelines', () => {
    const receivers = obj(col.receivers, 'receivers');
    const protocols = obj(obj(receivers.otlp, 'otlp').protocols, 'otlp.protocols');
    expect(obj(protocols.grpc, 'grpc').endpoint).toBe('0.0.0.0:4317');
    expect(obj(protocols.http, 'http').endpoint).toBe('0.0.0.0:4318');

    const processors = obj(col.processors, 'processors');
    expect(processors).toHaveProperty('memory_limiter');
    expect(processors).toHaveProperty('batch');
    const ml = obj(processors.memory_limiter, 'memory_limiter');
    expect(ml.check_interval).toBeDefined();
    expect(ml.limit_mib ?? ml.limit_percentage).toBeDefined();

    const exporters = obj(col.exporters, 'exporters');
    const kind = (id: string): string => id.split('/')[0]!;
    for (const id of Object.keys(exporters))
      expect(['otlp_grpc', 'otlp_http', 'debug'], `exporter ${id}: current names, not otlp/otlphttp`).toContain(
        kind(id),
      );
    const tempo = Object.entries(exporters).find(([id]) => kind(id) === 'otlp_grpc');
    expect(tempo, 'an otlp_grpc exporter').toBeDefined();
    expect(obj(tempo![1], 'tempo exporter').endpoint).toBe('tempo:4317');
    expect(obj(obj(tempo![1], 'tempo exporter').tls, 'tls').insecure).toBe(true);
    const loki = Object.entries(exporters).find(([id]) => kind(id) === 'otlp_http');
    expect(loki, 'an otlp_http exporter').toBeDefined();
    expect(obj(loki![1], 'loki exporter').endpoint).toBe('http://loki:3100/otlp');

    const extensions = obj(col.extensions, 'extensions');
    expect(extensions).toHaveProperty('health_check');
    const svc = obj(col.service, 'service');
    expect(svc.extensions).toContain('health_check');
    const pipelines = obj(svc.pipelines, 'pipelines');
    expect(Object.keys(pipelines).sort(), 'traces and logs only: Prometheus scrapes metrics directly').toEqual([
      'logs',
      'traces',
    ]);
    for (const [name, p] of Object.entries(pipelines)) {
      const pl = obj(p, name);
      const procs = pl.processors as string[];
      expect(procs[0], `${name}: memory_limiter first`).toBe('memory_limiter');
      expect(procs, `${name}: batch`).toContain('batch');
      expect(pl.receivers as string[], `${name}: otlp receiver`).toContain('otlp');
      for (const r of pl.receivers as string[]) expect(receivers, `${name}: receiver ${r} defined`).toHaveProperty([r]);
      for (const r of procs) expect(processors, `${name}: processor ${r} defined`).toHaveProperty([r]);
      for (const r of pl.exporters as string[]) expect(exporters, `${name}: exporter ${r} defined`).toHaveProperty([r]);
    }
    expect(obj(pipelines.traces, 'traces').exporters).toEqual([tempo![0]]);
    expect(obj(pipelines.logs, 'logs').exporters).toEqual([loki![0]]);
    expect(obj(pipelines.logs, 'logs').receivers).toContain('filelog/sightline');

    // pino: numeric level, epoch-ms time, traceId/spanId -> the record's trace context.
    const ops = (obj(receivers['filelog/sightline'], 'filelog').operators as Obj[]).map((o) => String(o.type));
    expect(ops).toEqual(expect.arrayContaining(['json_parser', 'trace_parser']));
  });

  it('the collector, Tempo and Loki agree on ports; Tempo is a 3.0 monolith; Loki takes OTLP', () => {
    const tempo = yamlFile('deploy', 'tempo.yaml');
    for (const gone of ['ingester', 'ingester_client', 'compactor', 'metrics_generator_client'])
      expect(tempo, `Tempo 3.0 has no ${gone} block`).not.toHaveProperty(gone);
    const receivers = obj(obj(tempo.distributor, 'distributor').receivers, 'receivers');
    expect(obj(obj(obj(receivers.otlp, 'otlp').protocols, 'protocols').grpc, 'grpc').endpoint).toBe('0.0.0.0:4317');
    expect(obj(tempo.server, 'server').http_listen_port).toBe(3200);
    expect(obj(obj(tempo.storage, 'storage').trace, 'trace').backend).toBe('local');

    const loki = yamlFile('deploy', 'loki.yaml');
    expect(obj(loki.server, 'server').http_listen_port).toBe(3100);
    expect(obj(loki.limits_config, 'limits_config').allow_structured_metadata).toBe(true);
    const schema = (obj(loki.schema_config, 'schema_config').configs as Obj[]).at(-1)!;
    expect(schema.schema).toBe('v13');
    expect(schema.store).toBe('tsdb');

    // The compose services mount these files where their commands read them.
    const cmd = (s: string): string =>
      ([] as string[]).concat((service(s).command as string[] | string | undefined) ?? []).join(' ');
    const mountedAt = (s: string, src: string): string | undefined =>
      binds.find((m) => m.service === s && m.source === src)?.target;
    expect(cmd('tempo')).toContain(`-config.file=${mountedAt('tempo', './deploy/tempo.yaml')}`);
    expect(cmd('loki')).toContain(`-config.file=${mountedAt('loki', './deploy/loki.yaml')}`);
    expect(cmd('otel-collector')).toContain(`--config=${mountedAt('otel-collector', './otel/collector.yaml')}`);
    expect(cmd('alertmanager')).toContain(`--config.file=${mountedAt('alertmanager', './deploy/alertmanager.yml')}`);
    expect(mountedAt('prometheus', './deploy/prometheus.yml')).toBe('/etc/prometheus/prometheus.yml');
  });
});

describe('compose stack: Alertmanager and Prometheus configs', () => {
  it.skipIf(AMTOOL.skip)(
    titled('`amtool check-config deploy/alertmanager.yml` passes and routes by severity', AMTOOL),
    () => {
      requireTool(AMTOOL);
      const r = run('amtool', ['check-config', 'deploy/alertmanager.yml']);
      expect(r.out + r.err).toContain('SUCCESS');
      expect(r.code).toBe(0);
      const route = (...labels: string[]): string =>
        run('amtool', ['config', 'routes', 'test', '--config.file=deploy/alertmanager.yml', ...labels]).out.trim();
      expect(route('alertname=SightlineX', 'severity=critical')).toBe('demo-webhook');
      expect(route('alertname=SightlineX', 'severity=warning')).toBe('demo-webhook');
      expect(route('alertname=SightlineX', 'severity=info')).toBe('null');
      const am = yamlFile('deploy', 'alertmanager.yml');
      expect(obj(am.route, 'route').group_by).toEqual(['alertname']);
      // The demo webhook is the stack's HTTP echo backend.
      const hooks = (am.receivers as Obj[]).flatMap((rc) =>
        ((rc.webhook_configs as Obj[] | undefined) ?? []).map((w) => new URL(String(w.url)).hostname),
      );
      for (const h of hooks) expect(Object.keys(services)).toContain(h);
    },
  );

  // Debian's promtool is 2.42; the image is v3.15.0. deploy/prometheus.yml avoids 3.x-only keys so
  // both accept it. Its relative `rules/*.yml` glob is checked against the repo's prometheus/rules
  // (what the container mounts at /etc/prometheus/rules), when that directory exists.
  it.skipIf(PROMTOOL.skip)(
    titled('`promtool check config deploy/prometheus.yml` passes, with ./prometheus/rules as its rules', PROMTOOL),
    () => {
      requireTool(PROMTOOL);
      const dir = mkdtempSync(path.join(tmpdir(), 'sightline-stack-prom-'));
      try {
        copyFileSync(at('deploy/prometheus.yml'), path.join(dir, 'prometheus.yml'));
        if (existsSync(at('prometheus/rules'))) symlinkSync(at('prometheus/rules'), path.join(dir, 'rules'));
        const r = run('promtool', ['check', 'config', 'prometheus.yml'], dir);
        expect(r.out + r.err).toContain('SUCCESS');
        expect(r.code).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const prom = yamlFile('deploy', 'prometheus.yml');
      const hosts = (prom.scrape_configs as Obj[]).flatMap((j) =>
        (j.static_configs as Obj[]).flatMap((s) => (s.targets as string[]).map((t) => t.split(':')[0]!)),
      );
      const ams = (obj(prom.alerting, 'alerting').alertmanagers as Obj[]).flatMap((a) =>
        (a.static_configs as Obj[]).flatMap((s) => (s.targets as string[]).map((t) => t.split(':')[0]!)),
      );
      for (const h of [...hosts, ...ams])
        if (h !== 'localhost') expect(Object.keys(services), `${h} is a compose service`).toContain(h);
      expect(ams).toEqual(['alertmanager']);
      expect(prom.rule_files).toEqual(expect.arrayContaining(['rules/*.yml']));
    },
  );
});

// ------------------------------------------------------------------------------------------------
// Dockerfile and .dockerignore
// ------------------------------------------------------------------------------------------------

/** Docker's .dockerignore rules, enough for an allow-list: last matching pattern wins; a pattern
 * matching a parent directory matches everything under it. */
function ignored(rel: string, patterns: string[]): boolean {
  const toRe = (p: string): RegExp =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*/g, '\u0000')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/\u0000/g, '.*')}$`,
    );
  const parts = rel.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let out = false;
  for (const raw of patterns) {
    const neg = raw.startsWith('!');
    const p = path.posix.normalize((neg ? raw.slice(1) : raw).trim()).replace(/^\/+|\/+$/g, '');
    if (prefixes.some((x) => toRe(p).test(x))) out = !neg;
  }
  return out;
}

describe('compose stack: Dockerfile', () => {
  const lines = readFileSync(at('Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const patterns = readFileSync(at('.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('is multi-stage on node:24-bookworm-slim, builds with npm ci + npm run build, runs non-root with the documented entrypoint', () => {
    const froms = lines.filter((l) => /^FROM\s/i.test(l));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const arg = lines.find((l) => /^ARG NODE_IMAGE=/.test(l));
    const base = arg ? arg.split('=')[1] : undefined;
    for (const f of froms) expect(f.replace('${NODE_IMAGE}', base ?? '')).toMatch(/^FROM node:24-bookworm-slim\b/);
    const text = lines.join('\n');
    expect(text).toMatch(/RUN npm ci\b/);
    expect(text).toMatch(/RUN npm run build\b/);
    expect(text).toMatch(/npm ci --omit=dev/);
    const finalStage = lines.slice(lines.lastIndexOf(froms.at(-1)!));
    const user = finalStage.filter((l) => /^USER\s/.test(l)).at(-1);
    expect(user, 'final stage sets USER').toBeDefined();
    expect(user!.split(/\s+/)[1]).not.toMatch(/^(root|0)(:|$)/);
    expect(finalStage).toContain('ENTRYPOINT ["node", "bin/sightline.js"]');
    expect(finalStage).toContain('CMD ["start", "-c", "/etc/sightline/sightline.yaml"]');
    expect(finalStage.some((l) => /^EXPOSE\b.*\b9464\b/.test(l))).toBe(true);
    for (const d of ['dist', 'bin', 'schema', 'examples', 'node_modules'])
      expect(
        finalStage.some((l) => new RegExp(`^COPY .*\\s\\./${d}$`).test(l)),
        `final stage copies ${d}`,
      ).toBe(true);
  });

  it('every COPY from the build context exists and is not excluded by .dockerignore', () => {
    const copies = lines.filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l));
    expect(copies.length).toBeGreaterThan(3);
    for (const c of copies) {
      const args = c
        .split(/\s+/)
        .slice(1)
        .filter((a) => !a.startsWith('--'));
      for (const src of args.slice(0, -1)) {
        expect(existsSync(at(src)), `${src} exists`).toBe(true);
        expect(ignored(src, patterns), `${src} is in the build context`).toBe(false);
      }
    }
    for (const junk of ['node_modules', 'dist', '.git', 'test', 'bench/results'])
      expect(ignored(junk, patterns), `${junk} stays out of the context`).toBe(true);
  });
});
