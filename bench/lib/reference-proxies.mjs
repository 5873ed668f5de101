// The reference proxies Sightline is measured against (proxies.mjs has the registry): HAProxy and
// nginx with the configurations generated for each mode, and the naive Node forwarders in proxies/
// (the floor a Node proxy should beat). Each start function gets the run context and the instance
// (mode, listenPort, target / routes) and returns { h, cmd, config }.
import fs from 'node:fs';
import path from 'node:path';
import { startProcess } from './procs.mjs';
import { HOST } from './util.mjs';
import { nginxHttpCommon } from './backends.mjs';

export const hp = (t) => `${t.host}:${t.port}`;

export function instDir(ctx, label) {
  return fs.mkdtempSync(path.join(ctx.tmp, label.replace(/[^a-z0-9]+/gi, '_') + '-'));
}

// ---------------------------------------------------------------- haproxy
function haproxyConfig(ctx, r) {
  const maxconn = Math.max(1000, Math.floor((ctx.nofile - 200) / 2));
  const g = `global
  nbthread ${ctx.workers}
  maxconn ${maxconn}

defaults
  mode ${r.mode === 'http' ? 'http' : 'tcp'}
  maxconn ${maxconn}
  timeout connect 5s
  timeout client 600s
  timeout server 600s
${r.mode === 'http' ? '  timeout http-request 10s\n  timeout http-keep-alive 120s\n' : ''}`;
  if (r.mode === 'sni') {
    const names = r.routes.map((x, i) => `  use_backend be_${i} if { req.ssl_sni -i ${x.name} }`).join('\n');
    const bes = r.routes.map((x, i) => `backend be_${i}\n  server s0 ${hp(x)}\n`).join('\n');
    return `${g}
frontend fe
  bind ${HOST}:${r.listenPort}
  tcp-request inspect-delay 5s
  tcp-request content accept if { req.ssl_hello_type 1 }
${names}
  default_backend be_default

${bes}
backend be_default
  server s0 ${hp(r.defaultTarget)}
`;
  }
  return `${g}
frontend fe
  bind ${HOST}:${r.listenPort}
  default_backend be

backend be
  server s0 ${hp(r.target)}
`;
}

export async function startHaproxy(ctx, r) {
  const dir = instDir(ctx, `haproxy-${r.mode}`);
  const cf = path.join(dir, 'haproxy.cfg');
  const conf = haproxyConfig(ctx, r);
  fs.writeFileSync(cf, conf);
  const h = startProcess(`haproxy/${r.mode}`, 'haproxy', ['-db', '-f', cf], { logFile: path.join(dir, 'out.log') });
  return { h, cmd: `haproxy -db -f ${cf}`, config: conf };
}

// ---------------------------------------------------------------- nginx
function nginxConfig(ctx, r, dir) {
  const conn = Math.max(1024, ctx.nofile - 32);
  const head = `${r.mode === 'http' ? '' : 'load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n'}daemon off;
master_process on;
worker_processes ${ctx.workers};
worker_rlimit_nofile ${ctx.nofile};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${conn}; }
`;
  if (r.mode === 'http') {
    return `${head}
http {
${nginxHttpCommon(dir)}
  upstream be {
    server ${hp(r.target)};
    keepalive 128;
    keepalive_requests 10000000;
  }
  server {
    listen ${HOST}:${r.listenPort} backlog=4096;
    location / {
      proxy_pass http://be;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
  }
  if (r.mode === 'sni') {
    const m = r.routes.map((x) => `    ${x.name} ${hp(x)};`).join('\n');
    return `${head}
stream {
  map $ssl_preread_server_name $bench_upstream {
${m}
    default ${hp(r.defaultTarget)};
  }
  server {
    listen ${HOST}:${r.listenPort} backlog=4096;
    ssl_preread on;
    proxy_pass $bench_upstream;
    proxy_connect_timeout 5s;
    proxy_timeout 600s;
  }
}
`;
  }
  return `${head}
stream {
  server {
    listen ${HOST}:${r.listenPort} backlog=4096;
    proxy_pass ${hp(r.target)};
    proxy_connect_timeout 5s;
    proxy_timeout 600s;
  }
}
`;
}

export async function startNginx(ctx, r) {
  const dir = instDir(ctx, `nginx-${r.mode}`);
  const cf = path.join(dir, 'nginx.conf');
  const conf = nginxConfig(ctx, r, dir);
  fs.writeFileSync(cf, conf);
  const args = ['-p', dir + '/', '-c', cf, '-e', path.join(dir, 'error.log')];
  const h = startProcess(`nginx/${r.mode}`, 'nginx', args, { logFile: path.join(dir, 'out.log') });
  return { h, cmd: `nginx ${args.join(' ')}`, config: conf };
}

// ---------------------------------------------------------------- naive node
export async function startNode(ctx, r) {
  const dir = instDir(ctx, `node-${r.mode}`);
  let args;
  if (r.mode === 'http') {
    args = [
      path.join(ctx.benchDir, 'proxies/node-http.mjs'),
      '--listen',
      String(r.listenPort),
      '--host',
      HOST,
      '--target',
      hp(r.target),
    ];
  } else if (r.mode === 'sni') {
    args = [
      path.join(ctx.benchDir, 'proxies/node-naive.mjs'),
      '--mode',
      'sni',
      '--listen',
      String(r.listenPort),
      '--host',
      HOST,
      '--routes',
      r.routes.map((x) => `${x.name}=${hp(x)}`).join(','),
      '--default',
      hp(r.defaultTarget),
    ];
  } else {
    args = [
      path.join(ctx.benchDir, 'proxies/node-naive.mjs'),
      '--mode',
      'l4',
      '--listen',
      String(r.listenPort),
      '--host',
      HOST,
      '--target',
      hp(r.target),
    ];
  }
  const h = startProcess(`node/${r.mode}`, process.execPath, args, {
    logFile: path.join(dir, 'out.log'),
    cwd: ctx.benchDir,
  });
  return {
    h,
    cmd: `node ${args.map((x) => (path.relative(ctx.benchDir, x).startsWith('..') ? x : path.relative(ctx.benchDir, x))).join(' ')}`,
    config: null,
  };
}
