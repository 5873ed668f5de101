/**
 * `sightline start` with tracing on, as a user runs it (needs `npm run build`): the CLI starts the
 * OpenTelemetry SDK from the OTEL_* variables and its spans reach a local OTLP/HTTP receiver
 * with the resource attributes of OTEL_RESOURCE_ATTRIBUTES. Nothing is instrumented: the admin
 * listener's HTTP requests and the exporter's own requests make no spans, only Sightline's do.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN } from '../helpers/cli.js';
import { closed, connect, echoServer, freePorts, readBytes } from '../helpers/net.js';
import { attrOf, otlpReceiver } from '../helpers/otlp.js';

describe('sightline start with tracing', () => {
  it('exports through NodeSDK to OTLP/HTTP with OTEL_RESOURCE_ATTRIBUTES; no instrumentation spans', async () => {
    const rx = await otlpReceiver();
    const echo = await echoServer();
    const [port] = await freePorts(1);
    const dir = await mkdtemp(path.join(tmpdir(), 'sightline-cli-tracing-'));
    const cfg = path.join(dir, 'run.yaml');
    await writeFile(
      cfg,
      `listenHost: 127.0.0.1\ngracefulShutdownTimeout: 1000\nadmin: { port: 0 }\ntelemetry: { tracing: { enabled: true }, logging: { level: silent } }\n` +
        `routes:\n  - name: traced\n    match: { ports: ${port} }\n    action: { type: forward, target: { host: 127.0.0.1, port: ${echo.port} } }\n`,
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: rx.url.replace('/v1/traces', ''),
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=e2e,k8s.pod.name=sightline-0',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    for (const k of [
      'OTEL_TRACES_EXPORTER',
      'OTEL_SERVICE_NAME',
      'OTEL_SDK_DISABLED',
      'OTEL_TRACES_SAMPLER',
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
      'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    ])
      delete env[k];
    const child = spawn(process.execPath, [BIN, 'start', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`not started: ${out} ${err}`)), 15_000);
        // Human lines ("admin on ...") go to stderr; stdout carries only JSON log lines.
        const check = (): void => {
          if (err.includes('admin on')) {
            clearTimeout(t);
            resolve();
          }
        };
        child.stderr.on('data', check);
        check();
      });
      const admin = /admin on (\S+)/.exec(err)![1]!;
      const s = await connect(port!);
      s.write('trace-me');
      expect((await readBytes(s, 8)).toString()).toBe('trace-me');
      s.end();
      await closed(s);
      expect((await fetch(new URL('healthz', admin))).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
      const got = rx.spans();
      expect(got.map((x) => x.span.name).sort(), err).toEqual([
        'sightline.connection',
        'sightline.setup',
        'sightline.upstream.connect',
      ]);
      const conn = got.find((x) => x.span.name === 'sightline.connection')!;
      expect(attrOf(conn.span.attributes, 'sightline.route')).toBe('traced');
      expect(conn.resource).toMatchObject({
        'service.name': 'sightline',
        'deployment.environment.name': 'e2e',
        'k8s.pod.name': 'sightline-0',
      });
      expect(conn.resource['process.pid']).toBe(child.pid);
      expect(typeof conn.resource['host.name']).toBe('string');
    } finally {
      child.kill('SIGKILL');
      await rx.close();
      await echo.close();
    }
  });
});
