/**
 * The `sightline` command. Exit codes (DESIGN §5): 0 ok, 1 a finding, 2 bad usage or config.
 */
import { Command, CommanderError } from 'commander';
import { configNotes } from '../config/notes.js';
import { VERSION } from '../version.js';
import { loadConfigFile } from '../config/load.js';
import { ConfigError, SightlineError } from '../core/errors.js';
import { expandPorts } from '../routing/ports.js';
import { SightlineProxy } from '../server.js';
import { startDemoBackend } from './demo-backend.js';


/** A one-line description of what went wrong, never a stack trace. */
export function describeError(err: unknown): string {
  if (err instanceof ConfigError) return `invalid configuration: ${err.message.replace(/^configuration is invalid: /, '')}`;
  if (err instanceof SightlineError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

export async function main(argv: readonly string[]): Promise<number> {
  let exit = 0;
  const program = new Command()
    .name('sightline')
    .description('Observability-first TCP / TLS / HTTP / WebSocket proxy: every connection ends with one explainable close reason.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('start')
    .description('start the proxy with a YAML or JSON configuration file')
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('--demo-backend [port]', 'also start a local echo backend (quick start), default port 9000')
    .action(async (opts: { config: string; demoBackend?: string | boolean }) => {
      exit = await start(opts.config, opts.demoBackend);
    });

  program
    .command('check')
    .description('validate a configuration file; exit 0 when valid, 2 with the errors')
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON)')
    .action(async (opts: { config: string }) => {
      try {
        const o = await loadConfigFile(opts.config);
        process.stdout.write(`${opts.config}: ok (${o.routes.length} route${o.routes.length === 1 ? '' : 's'})\n`);
        for (const n of configNotes(o)) process.stdout.write(`  note: ${n}\n`);
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`${opts.config}: invalid configuration\n`);
          for (const i of err.issues) process.stderr.write(`  ${i.path || '(root)'}: ${i.message}${i.hint ? ` (${i.hint})` : ''}\n`);
        } else process.stderr.write(`sightline: ${describeError(err)}\n`);
        exit = 2;
      }
    });

  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    throw err;
  }
  return exit;
}

async function start(file: string, demo: string | boolean | undefined): Promise<number> {
  let proxy: SightlineProxy;
  const closers: Array<() => Promise<unknown>> = [];
  try {
    const options = await loadConfigFile(file);
    for (const n of configNotes(options)) process.stderr.write(`sightline: note: ${n}\n`);
    if (demo !== undefined && demo !== false) {
      const port = typeof demo === 'string' ? Number(demo) : 9000;
      const backend = await startDemoBackend(port);
      closers.push(() => new Promise((r) => backend.close(r)));
      process.stdout.write(`demo backend listening on 127.0.0.1:${port}\n`);
    }
    proxy = new SightlineProxy(options);
    await proxy.start();
  } catch (err) {
    process.stderr.write(`sightline: ${describeError(err)}\n`);
    for (const c of closers) await c();
    return 2;
  }
  const host = proxy.options.listenHost ?? '0.0.0.0';
  for (const port of proxy.listeningPorts) {
    const names = proxy.options.routes.filter((r) => expandPorts(r.match.ports).includes(port)).map((r) => r.name);
    process.stdout.write(`listening on ${host}:${port} (routes: ${names.join(', ') || 'default'})\n`);
  }
  if (proxy.adminUrl !== null) process.stdout.write(`admin on ${proxy.adminUrl} (status page, /metrics, /api/*)\n`);
  await new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      process.stdout.write(`${sig} received: draining (up to ${proxy.options.gracefulShutdownTimeout} ms)\n`);
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await proxy.stop();
  for (const c of closers) await c();
  process.stdout.write('stopped\n');
  return 0;
}
