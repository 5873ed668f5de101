/**
 * The `sightline` command. Exit codes (DESIGN §5): 0 ok, 1 a finding, 2 bad usage or config.
 * Configuration errors are one line per problem naming the file and key (cli/config-errors.ts).
 */
import { Command, CommanderError } from 'commander';
import { configNotes } from '../config/notes.js';
import { VERSION } from '../core/version.js';
import { configErrorLines } from './config-errors.js';
import { loadCliConfig } from './reload.js';
import { describeError } from './describe-error.js';
import { MAX_DROP_AFTER_S, MIN_DROP_AFTER_S } from '../demo/config.js';

export { describeError };

export async function main(argv: readonly string[]): Promise<number> {
  let exit = 0;
  const program = new Command()
    .name('sightline')
    .description(
      'Observability-first TCP / TLS / HTTP / WebSocket proxy: every connection ends with one explainable close reason.',
    )
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('start')
    .description('start the proxy with a YAML or JSON configuration file')
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('--demo-backend [port]', 'also start a local echo backend (quick start), default port 9000')
    .option(
      '--workers <n|auto>',
      "worker processes sharing the ports (reusePort); 'auto' = available cores (default: config `workers`, 1)",
    )
    .action(async (opts: { config: string; demoBackend?: string | boolean; workers?: string }) => {
      // Loaded on use: `check` and a refused config answer without loading the proxy.
      const { start } = await import('./start.js');
      exit = await start(opts.config, opts.demoBackend, opts.workers);
    });

  program
    .command('check')
    .description('validate a configuration file; exit 0 when valid, 2 with the errors')
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON)')
    .action(async (opts: { config: string }) => {
      try {
        const o = await loadCliConfig(opts.config);
        process.stdout.write(`${opts.config}: ok (${o.routes.length} route${o.routes.length === 1 ? '' : 's'})\n`);
        for (const n of configNotes(o)) process.stdout.write(`  note: ${n}\n`);
      } catch (err) {
        // One line per problem, each naming the file and the key.
        for (const line of configErrorLines(err, opts.config)) process.stderr.write(`${line}\n`);
        exit = 2;
      }
    });

  program
    .command('demo')
    .description(
      'run a self-contained demo: Sightline, demo backends, a load balancer that cuts idle connections at 30 s, and traffic; the detector names the 30-second drop',
    )
    .option(
      '--admin-port <port>',
      'admin listener (status page, /metrics, /api/*) on 127.0.0.1; 0 = any free port',
      '9464',
    )
    .option(
      '--port-base <port>',
      'the routes listen on this port (healthy route) and the next (load-balanced route)',
      '18080',
    )
    .option(
      '--drop-after <seconds>',
      `idle timeout of the simulated load balancer (${MIN_DROP_AFTER_S}–${MAX_DROP_AFTER_S})`,
      '30',
    )
    .option('--duration <seconds>', 'stop by itself after this many seconds (default: run until Ctrl-C)')
    .option('--logs', "also write Sightline's access log (JSON lines) to stderr")
    .action(
      async (opts: { adminPort: string; portBase: string; dropAfter: string; duration?: string; logs?: boolean }) => {
        exit = await demo(opts);
      },
    );

  program
    .command('diagnose')
    .description(
      'explain premature disconnects of a running Sightline: exit 0 healthy, 1 a disconnect pattern, 2 bad usage or unreachable',
    )
    .option('--admin <url>', "Sightline's admin listener, e.g. http://127.0.0.1:9464/")
    .option('--prometheus <url>', 'a Prometheus server scraping Sightline, e.g. http://127.0.0.1:9090/')
    .option('--token <token>', 'bearer token (the admin token, or one for Prometheus)')
    .option('--window <range>', 'Prometheus only: the range closes are counted over (default 1h)')
    .option(
      '--selector <matchers>',
      'Prometheus only: label matchers for the Sightline series, e.g. \'job="sightline"\'',
    )
    .option('--timeout <seconds>', 'wait this long for each answer (default 5)')
    .option('--json', 'print the report as JSON')
    .action(
      async (opts: {
        admin?: string;
        prometheus?: string;
        token?: string;
        window?: string;
        selector?: string;
        timeout?: string;
        json?: boolean;
      }) => {
        const { runDiagnose } = await import('./diagnose/command.js');
        exit = await runDiagnose(opts, {
          write: (t) => process.stdout.write(t),
          error: (t) => process.stderr.write(t),
        });
      },
    );

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

/** A whole number within [min, max], or null. */
function intArg(v: string | undefined, min: number, max: number): number | null {
  if (v === undefined || !/^\d+$/.test(v)) return null;
  const n = Number(v);
  return n >= min && n <= max ? n : null;
}

async function demo(opts: {
  adminPort: string;
  portBase: string;
  dropAfter: string;
  duration?: string;
  logs?: boolean;
}): Promise<number> {
  const adminPort = intArg(opts.adminPort, 0, 65535);
  const portBase = intArg(opts.portBase, 1, 65534);
  const dropAfter = Number(opts.dropAfter);
  const duration = opts.duration === undefined ? undefined : Number(opts.duration);
  const bad =
    adminPort === null
      ? `--admin-port must be a port number (0-65535), not ${JSON.stringify(opts.adminPort)}`
      : portBase === null
        ? `--port-base must be a port number (1-65534; the demo uses it and the next one), not ${JSON.stringify(opts.portBase)}`
        : !(dropAfter >= MIN_DROP_AFTER_S && dropAfter <= MAX_DROP_AFTER_S)
          ? `--drop-after must be a number of seconds from ${MIN_DROP_AFTER_S} to ${MAX_DROP_AFTER_S} (the detector ignores closes younger than 1 s), not ${JSON.stringify(opts.dropAfter)}`
          : duration !== undefined && !(duration > 0 && Number.isFinite(duration))
            ? `--duration must be a number of seconds above 0, not ${JSON.stringify(opts.duration)}`
            : null;
  if (bad !== null || adminPort === null || portBase === null) {
    process.stderr.write(`sightline demo: ${bad}\n`);
    return 2;
  }
  const { runDemo } = await import('../demo/run.js');
  return runDemo({
    adminPort,
    portBase,
    dropAfterS: dropAfter,
    durationS: duration,
    logLevel: opts.logs === true ? 'info' : 'silent',
  });
}
