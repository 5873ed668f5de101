/**
 * `sightline start -c FILE`: load and check the whole file (certificates included), start the
 * proxy, then follow signals as an operator expects:
 * - SIGHUP reloads the file (cli/reload.ts): a valid file is swapped in, live connections keep
 *   their route; an invalid one keeps the running configuration and is logged and counted.
 * - SIGTERM / SIGINT drain (up to gracefulShutdownTimeout); a second one stops at once (the
 *   open connections are closed with `shutdown`, so each still gets its close record).
 * Human lines ("listening on", "stopped") go to stderr: stdout carries only the JSON log when it
 * is the log destination.
 */
import { configNotes } from '../config/notes.js';
import { expandPorts } from '../routing/ports.js';
import type { SightlineProxy } from '../server.js';
import { configErrorLines } from './config-errors.js';
import { startDemoBackend } from './demo-backend.js';
import { loadCliConfig, reloadFromFile } from './reload.js';
import { VERSION } from '../core/version.js';
import { workerCount } from './cluster/worker-count.js';

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export async function start(file: string, demo: string | boolean | undefined, workers?: string): Promise<number> {
  let proxy: SightlineProxy | null = null;
  const closers: Array<() => Promise<unknown>> = [];
  // Until the proxy runs, a SIGHUP must not end the process (its default action does).
  const early = (): void => say('sightline: SIGHUP received while starting: ignored');
  process.on('SIGHUP', early);
  try {
    const options = await loadCliConfig(file);
    for (const n of configNotes(options)) say(`sightline: note: ${n}`);
    if (demo !== undefined && demo !== false) {
      const port = typeof demo === 'string' ? Number(demo) : 9000;
      const backend = await startDemoBackend(port);
      closers.push(() => new Promise((r) => backend.close(r)));
      say(`demo backend listening on 127.0.0.1:${port}`);
    }
    const count = workerCount(workers ?? options.workers);
    if (count === null)
      throw new Error(`--workers must be a number from 1 to 256 or 'auto', not ${JSON.stringify(workers)}`);
    if (count > 1) {
      // The primary follows the signals itself (SIGHUP reloads every worker, all or none). `early`
      // stays until it returns: a signal with no listener at all would end the process.
      const { runPrimary } = await import('./cluster/primary.js');
      const code = await runPrimary(file, options, count, {
        write: (t) => process.stderr.write(t),
        error: (t) => process.stderr.write(t),
      });
      process.removeListener('SIGHUP', early);
      for (const c of closers) await c();
      return code;
    }
    // Loaded only once the file is known good: a refused file is answered without the proxy's code.
    const { SightlineProxy } = await import('../server.js');
    // Tracing: the OpenTelemetry SDK from the OTEL_* variables, loaded only when asked for.
    const sdk = options.telemetry.tracing.enabled
      ? (await import('../telemetry/tracing-sdk.js')).startTracingSdk(VERSION)
      : null;
    if (sdk !== null) closers.push(() => sdk.shutdown());
    proxy = new SightlineProxy(options, sdk === null ? {} : { tracerProvider: sdk.provider });
    await proxy.start();
  } catch (err) {
    process.removeListener('SIGHUP', early);
    for (const line of configErrorLines(err, file)) say(`sightline: ${line}`);
    for (const c of closers) await c();
    return 2;
  }
  const running = proxy;
  const host = running.options.listenHost ?? '0.0.0.0';
  for (const port of running.listeningPorts) {
    const names = running.options.routes.filter((r) => expandPorts(r.match.ports).includes(port)).map((r) => r.name);
    say(`listening on ${host}:${port} (routes: ${names.join(', ') || 'default'})`);
  }
  if (running.adminUrl !== null) say(`admin on ${running.adminUrl} (status page, /metrics, /api/*)`);

  const onHup = (): void => {
    void reloadFromFile(running, file).then((r) => {
      if (r.ok) {
        // The generation is what access lines, spans and progress records carry (configGeneration).
        say(
          `sightline: ${file}: reloaded (configuration generation ${r.generation}) from generation ${r.generation - 1}${r.configHash ? `, file sha256 ${r.configHash}` : ''}`,
        );
        if (r.restartNeeded.length > 0)
          say(`sightline: note: ${r.restartNeeded.join(', ')} changed; these take effect at the next start`);
        for (const n of configNotes(running.options)) say(`sightline: note: ${n}`);
      } else say(`sightline: reload refused, the running configuration stays: ${r.error}`);
    });
  };
  // The new listener first, then the old one off: between the two, SIGHUP would have no listener
  // and its default action would end the process (the human lines above are written
  // synchronously, so a supervisor that signals as soon as it reads them can land there).
  process.on('SIGHUP', onHup);
  process.removeListener('SIGHUP', early);
  // While draining a reload would reopen listeners; the signal must still not end the process.
  const ignoreHup = (): void => say('sightline: SIGHUP received while draining: ignored');
  await new Promise<void>((resolve) => {
    let draining = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (draining) {
        say(`${sig} received again: stopping now`);
        void running.stopNow();
        return;
      }
      draining = true;
      process.on('SIGHUP', ignoreHup);
      process.removeListener('SIGHUP', onHup);
      say(`${sig} received: draining (up to ${running.options.gracefulShutdownTimeout} ms; send it again to stop now)`);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await running.stop();
  // ignoreHup stays installed: a SIGHUP in the last moments must not turn exit 0 into 129.
  for (const c of closers) await c();
  say('stopped');
  return 0;
}
