/**
 * `sightline demo`: "WebSockets drop every 30 seconds" (an idle timer in front of the backend)
 * reproduced in one process and
 * explained by Sightline. Starts the demo backends, a simulated upstream load balancer with an
 * idle timeout, a SightlineProxy with an embedded configuration, and demo traffic; prints the
 * status page and the routes, a progress line while the detector collects closes, and the
 * pattern once detected. Runs until SIGINT/SIGTERM (or `--duration`), then drains and exits 0.
 */
import { SightlineError } from '../index.js';
import { SightlineProxy } from '../server.js';
import { startEchoBackend, startIdleCutter, startLongLivedBackend, type DemoServer } from './backends.js';
import { DETECTOR_MIN_CLOSES, HEALTHY_ROUTE, LB_ROUTE, demoOptions, demoTiming } from './config.js';
import { ProgressLine, type DemoOutput } from './progress.js';
import { DemoTraffic } from './traffic.js';

export interface DemoOptions {
  readonly adminPort: number;
  /** The healthy route listens on portBase, the load-balanced one on portBase + 1. */
  readonly portBase: number;
  /** The simulated load balancer's idle timeout (s). */
  readonly dropAfterS: number;
  /** Stop by itself after this many seconds (tests); undefined: until a signal. */
  readonly durationS?: number | undefined;
  readonly logLevel?: 'silent' | 'info' | 'debug';
}

export interface DemoIo {
  readonly out: DemoOutput;
  readonly err: DemoOutput;
  /** Where SIGINT / SIGTERM come from (the process). */
  readonly signals?: NodeJS.EventEmitter;
}

const HOST = '127.0.0.1';
const SHORT_EVERY_MS = 1000;
const IDLE_HEALTHY = 3;
const POLL_MS = 250;

type Pattern = ReturnType<NonNullable<SightlineProxy['telemetry']>['standingPatterns']>[number];

const secs = (ms: number): string => (ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(1));
const pad = (s: string, n: number): string => s.padEnd(n);

export async function runDemo(
  o: DemoOptions,
  io: DemoIo = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const { out, err } = io;
  const signals = io.signals ?? process;
  const timing = demoTiming(o.dropAfterS);
  const servers: DemoServer[] = [];
  const closeServers = async (): Promise<void> => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  };

  let proxy: SightlineProxy;
  let lb: Awaited<ReturnType<typeof startIdleCutter>>;
  let echo: DemoServer;
  let longLived: DemoServer;
  try {
    echo = await startEchoBackend(HOST);
    servers.push(echo);
    longLived = await startLongLivedBackend(HOST);
    servers.push(longLived);
    lb = await startIdleCutter({ host: HOST, port: longLived.port }, timing.dropAfterMs, HOST);
    servers.push(lb);
    proxy = new SightlineProxy(
      demoOptions(
        {
          adminPort: o.adminPort,
          healthyPort: o.portBase,
          lbPort: o.portBase + 1,
          echoBackend: echo.port,
          loadBalancer: lb.port,
        },
        o.logLevel ?? 'silent',
      ),
    );
    await proxy.start();
  } catch (e) {
    await closeServers();
    const msg = e instanceof Error ? e.message : String(e);
    const hint =
      e instanceof SightlineError && e.code === 'SL_ERR_LISTEN'
        ? /admin port/.test(msg)
          ? ' (pass --admin-port 0 for any free port, or another port)'
          : ` (pass --port-base to use other ports; the demo needs ${o.portBase} and ${o.portBase + 1})`
        : '';
    err.write(`sightline demo: ${msg}${hint}\n`);
    return 2;
  }

  let forceHandler: (() => void) | null = null;
  // Listening before the first line is written: a supervisor (or a test) that signals as soon as it
  // reads the banner must find the handler, not the default action that ends the process.
  const stopRequested = new Promise<string>((resolve) => {
    let stopTimer: NodeJS.Timeout | null = null;
    const finish = (reason: string): void => {
      if (stopTimer !== null) clearTimeout(stopTimer);
      // A second signal while draining stops at once. Added before the first handler is removed:
      // a signal with no listener at all would take its default action (end the process).
      const force = (): void => {
        err.write('sightline demo: second signal: stopping without draining\n');
        process.exit(1);
      };
      signals.once('SIGINT', force);
      signals.once('SIGTERM', force);
      signals.removeListener('SIGINT', onSignal);
      signals.removeListener('SIGTERM', onSignal);
      forceHandler = force;
      resolve(reason);
    };
    const onSignal = (sig: NodeJS.Signals): void => finish(`${sig} received`);
    signals.on('SIGINT', onSignal);
    signals.on('SIGTERM', onSignal);
    if (o.durationS !== undefined) stopTimer = setTimeout(() => finish(`${o.durationS} s elapsed`), o.durationS * 1000);
  });

  const admin = proxy.adminUrl ?? '(admin disabled)';
  const lbText = `load balancer :${lb.port} (cuts connections idle for ${secs(timing.dropAfterMs)} s) → long-lived backend :${longLived.port}`;
  out.write(
    [
      `Sightline demo: a proxy, demo backends and demo traffic, all on ${HOST}${o.durationS === undefined ? ' (Ctrl-C to stop)' : ` (stops after ${o.durationS} s)`}`,
      '',
      `status page   ${admin}   (also ${admin}metrics and ${admin}api/patterns)`,
      '',
      'routes',
      `  ${pad(HEALTHY_ROUTE, 14)}${HOST}:${o.portBase} → echo backend :${echo.port}`,
      `  ${pad('', 14)}healthy: a short request/response every ${secs(SHORT_EVERY_MS)} s, ${IDLE_HEALTHY} idle connections that stay open`,
      `  ${pad(LB_ROUTE, 14)}${HOST}:${o.portBase + 1} → ${lbText}`,
      `  ${pad('', 14)}the "WebSockets drop every 30 s" problem: a new idle long-lived connection every ${secs(timing.openEveryMs)} s, each cut by the load balancer after ${secs(timing.dropAfterMs)} s idle`,
      '',
      `The detector needs ${DETECTOR_MIN_CLOSES} closes at the same age from connections opened at different times:`,
      `expect the ${LB_ROUTE} pattern about ${Math.ceil(timing.expectedDetectionMs / 1000)} s from now.`,
      '',
      '',
    ].join('\n'),
  );

  const traffic = new DemoTraffic({
    host: HOST,
    healthyPort: o.portBase,
    lbPort: o.portBase + 1,
    shortEveryMs: SHORT_EVERY_MS,
    idleCount: IDLE_HEALTHY,
    openEveryMs: timing.openEveryMs,
  });
  const t0 = Date.now();
  traffic.start();

  const progress = new ProgressLine(out);
  const seen = new Set<string>();
  let detected = false;
  const progressText = (now: number): string => {
    const c = traffic.counts();
    return `waiting for the detector: ${c.lbClosed} connection${c.lbClosed === 1 ? '' : 's'} closed on route ${LB_ROUTE} so far, ~${Math.round((now - t0) / 1000)} s in`;
  };
  const report = (p: Pattern, now: number): void => {
    progress.done();
    out.write(`\npattern detected on route ${p.route} after ${Math.round((now - t0) / 1000)} s:\n  ${p.summary}\n`);
    if (!detected && p.route === LB_ROUTE) {
      detected = true;
      out.write(`open ${admin} to see it on the status page; run \`npx sightline diagnose --admin ${admin}\`\n`);
      out.write(o.durationS === undefined ? 'The demo keeps running (Ctrl-C to stop).\n' : '');
    }
  };
  const poll = (): void => {
    const now = Date.now();
    for (const p of proxy.telemetry?.standingPatterns() ?? []) {
      const key = `${p.route}/${p.kind}/${Math.round(p.periodMs / 1000)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      report(p, now);
    }
    if (!detected) progress.update(progressText(now), now);
  };
  progress.update(progressText(t0), t0, true);
  const poller = setInterval(poll, POLL_MS);

  const why = await stopRequested;
  clearInterval(poller);
  poll();
  progress.done();
  if (!detected) {
    out.write(
      `the detector has not reported the ${LB_ROUTE} pattern yet (${traffic.counts().lbClosed} closes so far; it needs ${DETECTOR_MIN_CLOSES} at ~${secs(timing.dropAfterMs)} s, expected after ~${Math.ceil(timing.expectedDetectionMs / 1000)} s)\n`,
    );
  }
  out.write(`${why}: draining\n`);
  traffic.stop();
  await proxy.stop();
  await closeServers();
  const force = forceHandler as (() => void) | null;
  if (force !== null) {
    signals.removeListener('SIGINT', force);
    signals.removeListener('SIGTERM', force);
  }
  out.write('stopped\n');
  return 0;
}
