/**
 * `sightline start --workers N|auto` (issue 13): the primary process. It forks N workers that
 * each listen on every route port with reusePort (the kernel spreads connections between them),
 * supervises them (supervisor.ts), owns the admin listener and serves one view of the whole
 * process from them (fleet.ts), feeds one pattern detector with every worker's closes, reloads
 * all workers on SIGHUP (validated here first: a bad file changes nothing) and drains them all on
 * SIGTERM/SIGINT. The library class stays single-process: this is CLI only.
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ResolvedOptions } from '../../config/schema.js';
import { expandPorts } from '../../routing/ports.js';
import { VERSION } from '../../core/version.js';
import { describeError } from '../describe-error.js';
import { readFile, rm } from 'node:fs/promises';
import { Fleet } from './fleet.js';
import { reloadAll, runningConfig, type LastGood } from './reload-all.js';
import { Supervisor } from './supervisor.js';
export { workerCount } from './worker-count.js';

/** Past the drain window, a worker that has not exited is killed. */
const EXIT_GRACE_MS = 5_000;

/** `workers` (CLI flag or config) as a count: 'auto' = the cores this process may use. */
interface Out {
  write(s: string): void;
  error(s: string): void;
}

export async function runPrimary(file: string, options: ResolvedOptions, count: number, out: Out): Promise<number> {
  // Until the workers are up a SIGHUP has nothing to reload (and Node's default would exit).
  const early = (): void => out.error('sightline: SIGHUP before the workers are listening: ignored\n');
  process.on('SIGHUP', early);
  const logging = options.telemetry.logging;
  let logger: Logger | null = null;
  if (logging.level !== 'silent') {
    const { createLogger } = await import('../../telemetry/logger.js');
    logger = createLogger(logging);
  }
  const fleet = new Fleet({
    version: VERSION,
    localSlackMs: Math.min(options.lifecycle.activitySampleInterval, options.inactivityCheckInterval),
    patterns: options.telemetry.patterns.enabled,
    logger,
  });

  // Workers run with the primary's node flags and no others: each paces its own GC (core/buffer-gc.ts).
  const execArgv = [...process.execArgv];
  let settle: (v: { ok: true; ports: readonly number[] } | { ok: false; error: string }) => void = () => {};
  const started = new Promise<{ ok: true; ports: readonly number[] } | { ok: false; error: string }>(
    (r) => (settle = r),
  );
  // What every worker runs (updated by each complete reload); restarted workers load it too.
  const lastGood: LastGood = { text: await readFile(file, 'utf8').catch(() => '') };
  let firstStart = true;
  let up = false;
  let runningCopy: string | null = null;
  const configFor = (): string => {
    if (firstStart) return file;
    const f = runningConfig(file, lastGood);
    if (f !== file) runningCopy = f;
    return f;
  };
  const sup = new Supervisor(count, fileURLToPath(new URL('./worker-main.js', import.meta.url)), configFor, execArgv, {
    ready: (ports) => settle({ ok: true, ports }),
    fatal: (slot, error) => {
      if (up) out.error(`sightline: worker ${slot} cannot start: ${error}\n`);
      else settle({ ok: false, error: `worker ${slot}: ${error}` });
    },
    closes: (samples) => fleet.observe(samples),
    lost: (slot, pid, why, open, restartInMs) => {
      const n = fleet.lost(slot, open);
      out.error(
        `sightline: worker ${slot} (pid ${pid ?? '?'}) died (${why}) with ${n} open connection${n === 1 ? '' : 's'}; restarting in ${restartInMs} ms\n`,
      );
    },
  });
  fleet.attach(sup);
  firstStart = false;

  const first = await started;
  up = first.ok;
  if (!first.ok) {
    out.error(`sightline: ${first.error}\n`);
    process.removeListener('SIGHUP', early);
    await sup.stop(EXIT_GRACE_MS);
    return 2;
  }

  let admin: { readonly url: string; close(): Promise<void> } | null = null;
  const a = options.admin;
  if (a !== undefined && a.enabled) {
    try {
      const { startAdmin } = await import('../../admin/server.js');
      admin = await startAdmin(
        { host: a.host, port: a.port, token: a.token, allowedHosts: a.allowedHosts },
        fleet.source(),
      );
    } catch (err) {
      out.error(`sightline: ${describeError(err)}\n`);
      process.removeListener('SIGHUP', early);
      await sup.stop(EXIT_GRACE_MS);
      return 2;
    }
  }
  const host = options.listenHost ?? '0.0.0.0';
  for (const port of first.ports) {
    const names = options.routes.filter((r) => expandPorts(r.match.ports).includes(port)).map((r) => r.name);
    out.write(`listening on ${host}:${port} (routes: ${names.join(', ') || 'default'})\n`);
  }
  out.write(`${count} workers (reusePort: the kernel balances connections between them)\n`);
  if (admin !== null) out.write(`admin on ${admin.url} (status page, /metrics, /api/*: the whole process)\n`);

  // SIGHUP: validate here, then every worker, all or none (reload-all.ts); one line says how it went.
  let reloading = false;
  const onHup = (): void => {
    if (reloading) return;
    reloading = true;
    void reloadAll(sup, file, lastGood, out).finally(() => (reloading = false));
  };
  process.on('SIGHUP', onHup);
  process.removeListener('SIGHUP', early);

  const sig = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (s: NodeJS.Signals): void => {
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
      resolve(s);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  // While draining a reload has nothing to do; the signal must still not end the process (with no
  // listener its default action would), so a quiet listener takes over until the process exits.
  process.on('SIGHUP', () => out.error('sightline: SIGHUP received while draining: ignored\n'));
  process.removeListener('SIGHUP', onHup);
  fleet.draining = true;
  out.write(`${sig} received: draining ${count} workers (up to ${options.gracefulShutdownTimeout} ms)\n`);
  await sup.stop(options.gracefulShutdownTimeout + EXIT_GRACE_MS);
  await admin?.close();
  if (runningCopy !== null) await rm(runningCopy, { force: true });
  if (logger !== null) {
    const { flushLogger } = await import('../../telemetry/logger.js');
    await flushLogger(logger);
  }
  out.write('stopped\n');
  return 0;
}
