#!/usr/bin/env node
// Run the harness's CLI (bench/lib) with MORE THAN ONE proxy under test, so that several variants of
// Sightline are started side by side in one workload and their reps interleaved by the harness's
// own driver (rotating order, same backend, same load generator, same window).
//
// The harness itself supports one PUT (PROXY_CMD_* / PROXY_NAME). Its proxy registry
// (lib/proxies.mjs, `BUILTIN`) is an exported object that `proxyDefs()` reads on every call, so
// this entry point builds extra PUT definitions with the harness's own `proxyDefs({putEnv})`
// (same startPut(), same {placeholders}, same process handling and CPU accounting), registers them
// in BUILTIN under their names, and then hands over to the unmodified lib/cli.mjs.
//
//   EXTRA_PUTS='[{"name":"sightline-on","cmd":"exec node ... --telemetry on","modes":"l4,sni"}]' \
//   PROXY_NAME=sightline-off PROXY_CMD_L4=... PROXY_CMD_SNI=... \
//   node bench/multi-put.mjs throughput --proxies sightline-off,sightline-on --reps 5 --out F.json
//
// Select the variants by name in --proxies (the `put` alias selects all of them). Run it from the
// harness directory (bench/lib) with a raised `ulimit -n`, as run.sh and telemetry-cost.sh do.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = fileURLToPath(new URL('./lib', import.meta.url));
let extra;
try {
  extra = JSON.parse(process.env.EXTRA_PUTS || '[]');
} catch (e) {
  process.stderr.write(`multi-put: EXTRA_PUTS is not JSON: ${e.message}\n`);
  process.exit(2);
}

const proxies = await import(pathToFileURL(path.join(dir, 'proxies.mjs')).href);
for (const x of extra) {
  if (!x.name || !x.cmd) {
    process.stderr.write('multi-put: every EXTRA_PUTS entry needs name and cmd\n');
    process.exit(2);
  }
  if (proxies.BUILTIN[x.name] || x.name === (process.env.PROXY_NAME || 'put')) {
    process.stderr.write(`multi-put: proxy name ${x.name} is taken\n`);
    process.exit(2);
  }
  // Only this variant's command: proxyDefs() falls back to the PROXY_CMD_* of the environment
  // for modes the overrides leave empty, so every per-mode command is set explicitly.
  const putEnv = {
    PROXY_NAME: x.name,
    PROXY_CMD: x.cmd,
    PROXY_CMD_L4: x.cmd,
    PROXY_CMD_SNI: x.cmd,
    PROXY_CMD_HTTP: x.cmd,
    PROXY_MODES: x.modes || process.env.PROXY_MODES || 'l4,sni,http',
  };
  const def = proxies.proxyDefs({ putEnv, proxies: 'put' }).find((d) => d.put && d.name === x.name);
  if (!def) {
    process.stderr.write(`multi-put: could not build the definition of ${x.name}\n`);
    process.exit(2);
  }
  proxies.BUILTIN[x.name] = def;
  process.stderr.write(`multi-put: extra proxy under test ${x.name} modes=${def.modes.join(',')}\n`);
}

// lib/cli.mjs runs its main() on import and reads process.argv.slice(2): our own arguments.
await import(pathToFileURL(path.join(dir, 'cli.mjs')).href);
