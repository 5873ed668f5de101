#!/usr/bin/env node
// Sightline adapter for the benchmark harness (bench/lib): the `sightline` proxy, and the
// command-template variants of telemetry-cost.sh.
//
//   node bench/sightline-bench.mjs --routes-json FILE [--telemetry on|off|LIST] [--print-config]
//                                  [--log-file PATH] [--admin-url-file PATH]
//
// FILE is the harness's {routes_json}:
//   { mode, listen: {host, port}, target: {host, port}, routes: {name: "host:port"}, default }
//
//   l4  -> one plain-TCP route on listen.port to target (routed at accept, no byte read first)
//   sni -> one passthrough route per SNI name (match.domains: [name]) and defaults.target for
//          unknown names / no SNI; the ClientHello is peeked, never terminated
//   http -> one plain HTTP/1.1 route (protocol: 'http') on listen.port to target: requests parsed,
//          X-Forwarded-* added, keep-alive upstream pool
//
// --telemetry on = metrics,logs,tracing; off = none; or a comma list of those (e.g. metrics,logs);
//             default = no `telemetry` section at all (what a user gets: metrics on, info logs,
//             tracing per OTEL_*) and the admin listener on (ephemeral port, so instances never collide)
// --via library (default) = SightlineProxy in this process; cli = `node bin/sightline.js start -c`
//             with the same config written to a temp file, as a child of this process (the harness
//             measures the process tree). Also from the environment: SIGHTLINE_VIA=cli.
// --log-file PATH       (logs on) access/lifecycle log to this file instead of stderr
// --admin-url-file PATH enable the admin listener on 127.0.0.1, port 0 (ephemeral), and write its
//                       URL to PATH once listening (for a /metrics scraper; see telemetry-cost.sh)
// Tracing (on): the OpenTelemetry SDK as the CLI starts it (dist/telemetry/tracing-sdk.js), from the OTEL_* variables.
//
// Starts SightlineProxy from ../dist (build first: `npm run build`) in this process and stays in
// the foreground; SIGTERM / SIGINT -> proxy.stop() (short drain) -> exit 0.
import fs from 'node:fs';
import { parseArgs } from 'node:util';

const USAGE =
  'usage: node sightline-bench.mjs --routes-json FILE [--telemetry on|off|default|metrics,logs,tracing] [--via library|cli] [--log-file PATH] [--admin-url-file PATH] [--print-config]';

function die(msg, code = 2) {
  process.stderr.write(`sightline-bench: ${msg}\n`);
  process.exit(code);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      'routes-json': { type: 'string' },
      telemetry: { type: 'string', default: 'off' },
      'log-file': { type: 'string' },
      'admin-url-file': { type: 'string' },
      'print-config': { type: 'boolean', default: false },
      via: { type: 'string', default: process.env.SIGHTLINE_VIA ?? 'library' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (e) {
  die(`${e.message}\n${USAGE}`);
}
if (args.help) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}
const routesFile = args['routes-json'] ?? process.env.BENCH_ROUTES_JSON;
if (!routesFile) die(`--routes-json is required\n${USAGE}`);
const PARTS = ['metrics', 'logs', 'tracing'];
const telemetryParts =
  args.telemetry === 'default'
    ? 'default'
    : args.telemetry === 'on'
      ? new Set(PARTS)
      : args.telemetry === 'off'
        ? new Set()
        : new Set(
            args.telemetry
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          );
if (telemetryParts !== 'default') {
  for (const p of telemetryParts)
    if (!PARTS.includes(p))
      die(
        `--telemetry must be on, off, default or a comma list of ${PARTS.join(', ')}; got ${JSON.stringify(args.telemetry)}`,
      );
}
if (args.via !== 'library' && args.via !== 'cli') die(`--via must be library or cli; got ${JSON.stringify(args.via)}`);

/** "host:port" (IPv6 hosts may contain ':'; the port is after the last one). */
function hostPort(s, what) {
  if (typeof s !== 'string') die(`${what}: expected "host:port", got ${JSON.stringify(s)}`);
  const i = s.lastIndexOf(':');
  const host = s.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(s.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535)
    die(`${what}: bad "host:port" ${JSON.stringify(s)}`);
  return { host, port };
}

/** Build the Sightline options object for one harness instance. */
/** telemetry: true (all), false (none), 'default' (no section) or a Set of 'metrics' | 'logs' | 'tracing'. */
export function buildConfig(spec, { telemetry, logFile, admin = false }) {
  const on = (part) => (telemetry instanceof Set ? telemetry.has(part) : telemetry === true);
  const { mode, listen } = spec;
  if (!listen || !Number.isInteger(listen.port)) die('routes json: listen.port missing');
  const port = listen.port;
  let routes;
  let defaultTarget;
  if (mode === 'l4') {
    if (!spec.target) die('routes json: l4 mode needs target');
    routes = [
      {
        name: 'bench-l4',
        match: { ports: port },
        action: { type: 'forward', target: { host: spec.target.host, port: spec.target.port } },
      },
    ];
  } else if (mode === 'sni') {
    const entries = Object.entries(spec.routes ?? {});
    if (entries.length === 0) die('routes json: sni mode needs at least one route');
    routes = entries.map(([name, dest]) => ({
      name: `sni-${name}`,
      match: { ports: port, domains: [name] },
      action: { type: 'forward', target: hostPort(dest, `routes.${name}`), tls: { mode: 'passthrough' } },
    }));
    if (spec.default) defaultTarget = hostPort(spec.default, 'default');
  } else if (mode === 'http') {
    if (!spec.target) die('routes json: http mode needs target');
    routes = [
      {
        name: 'bench-http',
        match: { ports: port },
        action: { type: 'forward', protocol: 'http', target: { host: spec.target.host, port: spec.target.port } },
      },
    ];
  } else {
    die(`mode ${JSON.stringify(mode)} is not supported by this adapter (l4, sni, http)`);
  }
  return {
    listenHost: listen.host,
    routes,
    // Benchmarks open thousands of connections from 127.0.0.1: no per-IP caps or rate limits.
    maxConnectionsPerIP: 0,
    connectionRateLimitPerMinute: 0,
    // Quick SIGTERM: the harness SIGKILLs after 3 s.
    gracefulShutdownTimeout: 500,
    defaults: {
      ...(defaultTarget ? { target: defaultTarget } : {}),
      security: { maxConnections: 100000 },
    },
    // The admin listener would bind a fixed port (9464) in every instance; the harness runs several.
    // With --admin-url-file: an ephemeral port, so several instances never collide.
    admin: admin || telemetry === 'default' ? { enabled: true, host: '127.0.0.1', port: 0 } : { enabled: false },
    ...(telemetry === 'default'
      ? {}
      : {
          telemetry: {
            metrics: { enabled: on('metrics') },
            tracing: { enabled: on('tracing') },
            logging: { level: on('logs') ? 'info' : 'silent', destination: logFile ?? 'stderr' },
          },
        }),
  };
}

let spec;
try {
  spec = JSON.parse(fs.readFileSync(routesFile, 'utf8'));
} catch (e) {
  die(`cannot read routes json ${routesFile}: ${e.message}`);
}
const config = buildConfig(spec, {
  telemetry: telemetryParts,
  logFile: args['log-file'],
  admin: args['admin-url-file'] !== undefined,
});
if (args['print-config']) {
  process.stdout.write(JSON.stringify(config, null, 2) + '\n');
  process.exit(0);
}

if (args.via === 'cli') {
  // The real command, exactly as a user starts it: `node bin/sightline.js start -c FILE`.
  const { spawn } = await import('node:child_process');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-bench-cli-'));
  const file = path.join(dir, 'sightline.json');
  fs.writeFileSync(file, JSON.stringify(config));
  const bin = new URL('../bin/sightline.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [bin, 'start', '-c', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  process.stderr.write(`sightline-bench: ${spec.mode} via the CLI (pid ${child.pid}), telemetry ${args.telemetry}\n`);
  const forward = (sig) => child.kill(sig);
  process.on('SIGTERM', () => forward('SIGTERM'));
  process.on('SIGINT', () => forward('SIGINT'));
  child.on('exit', (code, sig) => {
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(code ?? (sig ? 0 : 1));
  });
} else {
  await runLibrary();
}

async function runLibrary() {
  let SightlineProxy;
  try {
    ({ SightlineProxy } = await import(new URL('../dist/index.js', import.meta.url).href));
  } catch (e) {
    die(`cannot load ../dist/index.js (run \`npm run build\` first): ${e.message}`, 1);
  }

  // Tracing as the CLI starts it: the OpenTelemetry SDK from the OTEL_* variables (the library reads none).
  let sdk = null;
  if (telemetryParts !== 'default' && telemetryParts.has('tracing')) {
    const { startTracingSdk } = await import(new URL('../dist/telemetry/tracing-sdk.js', import.meta.url).href);
    sdk = startTracingSdk('bench');
  }

  let proxy;
  try {
    proxy = new SightlineProxy(config, sdk === null ? {} : { tracerProvider: sdk.provider });
    await proxy.start();
  } catch (e) {
    const issues = Array.isArray(e?.issues)
      ? '\n' + e.issues.map((i) => `  ${i.path}: ${i.message}${i.hint ? ` (${i.hint})` : ''}`).join('\n')
      : '';
    die(`failed to start: ${e?.message ?? e}${issues}`, 1);
  }
  if (args['admin-url-file'] !== undefined) {
    // Write then rename, so a watcher never reads a half-written file.
    const f = args['admin-url-file'];
    fs.writeFileSync(`${f}.tmp`, `${proxy.adminUrl}\n`);
    fs.renameSync(`${f}.tmp`, f);
  }
  process.stderr.write(
    `sightline-bench: ${spec.mode} listening on ${spec.listen.host}:${spec.listen.port} (${config.routes.length} route(s), telemetry ${args.telemetry}, pid ${process.pid})\n`,
  );

  let stopping = false;
  async function shutdown(sig) {
    if (stopping) return;
    stopping = true;
    // Never hang past the harness's 3 s SIGKILL grace.
    setTimeout(() => process.exit(0), 2500).unref();
    try {
      await proxy.stop();
      await sdk?.shutdown();
    } catch (e) {
      process.stderr.write(`sightline-bench: stop after ${sig} failed: ${e?.message ?? e}\n`);
    }
    process.exit(0);
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
