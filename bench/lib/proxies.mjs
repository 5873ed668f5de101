// The proxies Sightline is measured against, and Sightline itself. Each can be started in one or
// more modes:
//   l4   plain TCP forwarder to one target
//   sni  TLS passthrough, routed on the ClientHello server_name (no termination)
//   http HTTP/1.1 reverse proxy (keep-alive to clients and to the backend)
// plus "direct" (no proxy: clients talk to the backend: the ceiling), "node" (the naive Node
// forwarders in proxies/: the floor a Node proxy should beat), "sightline" (bench/sightline-bench.mjs
// on the built dist/) and proxies under test started from a command template (PROXY_CMD..., used
// by telemetry-cost.sh to run several Sightline variants side by side). HAProxy, nginx and the
// naive Node forwarders are started by reference-proxies.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startProcess } from './procs.mjs';
import { HOST, freePorts, waitListening } from './util.mjs';
import { BENCH_DIR } from './env.mjs';
import { hp, instDir, startHaproxy, startNginx, startNode } from './reference-proxies.mjs';

// ---------------------------------------------------------------- sightline
// bench/sightline-bench.mjs starts SightlineProxy from a built dist/ with the instance's routes.
// run.sh points SIGHTLINE_ADAPTER at a frozen copy of the build (snapshot.sh), so every instance
// of a run loads the same code even if dist/ is rebuilt meanwhile.
//   SIGHTLINE_ADAPTER    the adapter to run (default: bench/sightline-bench.mjs beside lib/)
//   SIGHTLINE_NODE_ARGS  node flags (default --initial-old-space-size=64; run.sh sets none)
//   SIGHTLINE_TELEMETRY  default | on | off | metrics,logs,tracing (default: default, as users run it)
//   SIGHTLINE_LABEL      the proxy's name in tables and --proxies (default sightline)
//   SIGHTLINE_VIA        library (default): SightlineProxy inside the adapter's process;
//                        cli: the adapter only writes the config (--print-config), and the proxy
//                        process is the real command `node bin/sightline.js start -c FILE` of the
//                        same build (nothing else in the measured process tree)
export function sightlineDef(env = process.env) {
  const adapter = env.SIGHTLINE_ADAPTER || path.resolve(BENCH_DIR, '..', 'sightline-bench.mjs');
  const nodeArgs = (env.SIGHTLINE_NODE_ARGS ?? '--initial-old-space-size=64').split(/\s+/).filter(Boolean);
  const telemetry = env.SIGHTLINE_TELEMETRY || 'default';
  const via = env.SIGHTLINE_VIA || 'library';
  const name = env.SIGHTLINE_LABEL || 'sightline';
  // The build's root: the adapter sits in <root>/bench/ and loads <root>/dist/.
  const root = path.resolve(path.dirname(adapter), '..');
  return {
    name,
    modes: ['l4', 'sni', 'http'],
    sightline: { adapter, root, via, telemetry },
    start: async (ctx, r) => {
      const dir = instDir(ctx, `${name}-${r.mode}`);
      const routes = writeRoutesJson(dir, r);
      let args;
      if (via === 'cli') {
        const cfg = path.join(dir, 'sightline.json');
        fs.writeFileSync(
          cfg,
          execFileSync(
            process.execPath,
            [adapter, '--routes-json', routes, '--telemetry', telemetry, '--print-config'],
            { encoding: 'utf8' },
          ),
        );
        args = [...nodeArgs, path.join(root, 'bin', 'sightline.js'), 'start', '-c', cfg];
      } else {
        args = [...nodeArgs, adapter, '--routes-json', routes, '--telemetry', telemetry];
      }
      const h = startProcess(`${name}/${r.mode}`, process.execPath, args, {
        logFile: path.join(dir, 'out.log'),
        cwd: via === 'cli' ? root : path.dirname(adapter),
      });
      return { h, cmd: `node ${args.join(' ')}`, config: null, readyTimeoutMs: 20000 };
    },
  };
}

// A second Sightline build in the same run (run.sh --before REF, bench/before-build.sh): the
// same adapter and settings, started from the snapshot of the other build. Selected in --proxies
// by its label (sightline@<short commit>) or by the alias `sightline-before`.
//   SIGHTLINE_BEFORE_ADAPTER  the adapter inside that build's snapshot
//   SIGHTLINE_BEFORE_LABEL    its name in tables (default sightline-before)
export function beforeDef(env = process.env) {
  if (!env.SIGHTLINE_BEFORE_ADAPTER) return null;
  const def = sightlineDef({
    ...env,
    SIGHTLINE_ADAPTER: env.SIGHTLINE_BEFORE_ADAPTER,
    SIGHTLINE_LABEL: env.SIGHTLINE_BEFORE_LABEL || 'sightline-before',
  });
  return { ...def, before: true };
}

// run.sh --control: a second, independent copy of the before build (its own snapshot, its own
// processes), so that control/before in the same run is an A/A: the noise floor of that very run.
// Selected by its label (sightline@<short>-control) or the alias `sightline-control`.
export function controlDef(env = process.env) {
  if (!env.SIGHTLINE_CONTROL_ADAPTER) return null;
  const def = sightlineDef({
    ...env,
    SIGHTLINE_ADAPTER: env.SIGHTLINE_CONTROL_ADAPTER,
    SIGHTLINE_LABEL: env.SIGHTLINE_CONTROL_LABEL || 'sightline-control',
  });
  return { ...def, control: true };
}

// ---------------------------------------------------------------- proxy under test
// Contract (bench/README.md, "Variants"): a shell command template with {placeholders}.
export function putFromEnv(env = process.env, overrides = {}) {
  const e = { ...env, ...overrides };
  const perMode = { l4: e.PROXY_CMD_L4, sni: e.PROXY_CMD_SNI, http: e.PROXY_CMD_HTTP };
  const any = e.PROXY_CMD;
  if (!any && !perMode.l4 && !perMode.sni && !perMode.http) return null;
  let modes = e.PROXY_MODES
    ? e.PROXY_MODES.split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : any
      ? ['l4', 'sni', 'http']
      : Object.keys(perMode).filter((m) => perMode[m]);
  modes = modes.filter((m) => perMode[m] || any);
  return {
    name: e.PROXY_NAME || 'put',
    modes,
    cmdFor: (m) => perMode[m] || any,
    configTemplate: e.PROXY_CONFIG_TEMPLATE || null,
    cwd: e.PROXY_CWD || process.cwd(),
    readyTimeoutMs: Number(e.PROXY_READY_TIMEOUT_MS || 20000),
    put: true,
  };
}

export function renderTemplate(tpl, vars) {
  return tpl.replace(/\{([a-z_]+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

// The instance's routes as the JSON file bench/sightline-bench.mjs reads ({routes_json}).
function writeRoutesJson(dir, r) {
  const file = path.join(dir, 'routes.json');
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        mode: r.mode,
        listen: { host: HOST, port: r.listenPort },
        target: r.target ? { host: r.target.host, port: r.target.port } : null,
        routes: r.mode === 'sni' ? Object.fromEntries(r.routes.map((x) => [x.name, hp(x)])) : {},
        default: r.defaultTarget ? hp(r.defaultTarget) : null,
      },
      null,
      2,
    ),
  );
  return file;
}

async function startPut(ctx, r, def) {
  const dir = instDir(ctx, `${def.name}-${r.mode}`);
  const routesStr = r.mode === 'sni' ? r.routes.map((x) => `${x.name}=${hp(x)}`).join(',') : '';
  const routesJson = writeRoutesJson(dir, r);
  const target = r.target || r.routes?.[0];
  const vars = {
    mode: r.mode,
    listen_host: HOST,
    listen_port: r.listenPort,
    listen: `${HOST}:${r.listenPort}`,
    target_host: target.host,
    target_port: target.port,
    target: hp(target),
    routes: routesStr,
    routes_json: routesJson,
    default_target: r.defaultTarget ? hp(r.defaultTarget) : '',
    cert: ctx.certs.cert,
    key: ctx.certs.key,
    ca: ctx.certs.ca,
    tmpdir: dir,
    workers: ctx.workers,
    nofile: ctx.nofile,
    bench_dir: ctx.benchDir,
    config: '',
  };
  let config = null;
  if (def.configTemplate) {
    const cfgPath = path.join(dir, 'proxy.conf');
    config = renderTemplate(fs.readFileSync(def.configTemplate, 'utf8'), { ...vars, config: cfgPath });
    fs.writeFileSync(cfgPath, config);
    vars.config = cfgPath;
  }
  const cmd = renderTemplate(def.cmdFor(r.mode), vars);
  const env = { ...process.env };
  for (const [k, v] of Object.entries(vars)) env['BENCH_' + k.toUpperCase()] = String(v);
  const h = startProcess(`${def.name}/${r.mode}`, '/bin/sh', ['-c', cmd], {
    logFile: path.join(dir, 'out.log'),
    cwd: def.cwd,
    env,
  });
  return { h, cmd, config, readyTimeoutMs: def.readyTimeoutMs };
}

// ---------------------------------------------------------------- registry
export const BUILTIN = {
  direct: { name: 'direct', modes: ['l4', 'sni', 'http'], direct: true },
  haproxy: { name: 'haproxy', modes: ['l4', 'sni', 'http'], start: startHaproxy },
  nginx: { name: 'nginx', modes: ['l4', 'sni', 'http'], start: startNginx },
  node: { name: 'node', modes: ['l4', 'sni', 'http'], start: startNode },
};

export function proxyDefs(opts = {}) {
  const defs = [...Object.values(BUILTIN), sightlineDef()];
  const before = beforeDef();
  if (before) defs.push(before);
  const control = controlDef();
  if (control) defs.push(control);
  const put = putFromEnv(process.env, opts.putEnv || {});
  if (put) defs.push({ ...put, start: (ctx, r) => startPut(ctx, r, put) });
  let sel = defs;
  if (opts.proxies) {
    const want = opts.proxies.split(',').map((s) => s.trim());
    sel = defs.filter(
      (d) =>
        want.includes(d.name) ||
        (d.put && want.includes('put')) ||
        (d.before && want.includes('sightline-before')) ||
        (d.control && want.includes('sightline-control')),
    );
  }
  return sel;
}

// Start one proxy instance; returns an instance object or { error }.
// r: { mode, target, routes, defaultTarget }
export async function startInstance(ctx, def, r) {
  const label = `${def.name}/${r.mode}`;
  if (def.direct) {
    const port = r.mode === 'sni' ? r.routes[0].port : r.target.port;
    return {
      label,
      name: def.name,
      mode: r.mode,
      port,
      pid: null,
      direct: true,
      cmd: '(no proxy: client connects to the backend)',
    };
  }
  const [listenPort] = await freePorts(1);
  const rr = { ...r, listenPort };
  let s;
  try {
    s = await def.start(ctx, rr);
    await waitListening(listenPort, s.readyTimeoutMs || 10000, s.h.alive, label);
  } catch (e) {
    const tail = s?.h?.logFile ? safeTail(s.h.logFile) : '';
    if (s?.h) await s.h.stop();
    return { label, name: def.name, mode: r.mode, error: `${e.message}${tail ? ' | log: ' + tail : ''}` };
  }
  return {
    label,
    name: def.name,
    mode: r.mode,
    port: listenPort,
    pid: s.h.pid,
    h: s.h,
    cmd: s.cmd,
    config: s.config,
    put: !!def.put,
  };
}

function safeTail(f) {
  try {
    return fs.readFileSync(f, 'utf8').trim().split('\n').slice(-3).join(' / ').slice(0, 400);
  } catch {
    return '';
  }
}

export async function stopInstance(inst) {
  if (inst?.h) await inst.h.stop();
}
