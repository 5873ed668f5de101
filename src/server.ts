/**
 * Composition root (DESIGN §1 L7): validates options once, builds the shared context, starts
 * one listener per port, drives the sweep, and drains on stop(). Public names follow the seed
 * (`SightlineProxy` ≈ the reference's class, `getStats()`, `connectionManager.getConnections()`).
 */
import { holdBufferGc } from './core/buffer-gc.js';
import { channels, type ProxyEvent } from './core/channels.js';
import { systemClock, type Clock } from './core/clock.js';
import { SightlineError } from './core/errors.js';
import { TimerWheel } from './core/timer-wheel.js';
import type { ResolvedOptions, SightlineOptions, RouteConfig } from './config/schema.js';
import { validateOptions, validateRoutes } from './config/validate.js';
import { configHashOf } from './config/config-hash.js';
import { mergeForReload } from './config/reload-merge.js';
import { IpMatcher } from './routing/ip-matcher.js';
import { defaultRouteOf } from './routing/default-route.js';
import { RouteTable } from './routing/route-table.js';
import type { Connection } from './net/connection.js';
import type { ProxyContext } from './net/context.js';
import { ListenerSet } from './net/listener-set.js';
import { ConnectionRegistry } from './net/registry.js';
import { drainConnections } from './net/drain.js';
import { Sweeper } from './net/sweep.js';
import { effectiveTimeouts, sweepPeriod } from './net/timeouts.js';
import { Admission } from './security/admission.js';
import type { Mode } from './net/mode.js';
import { modeTable, type ModeTable } from './proxy/modes.js';
import type { PoolStats } from './proxy/upstream-lease.js';
import type { Telemetry } from './telemetry/telemetry.js';
import type { Logger } from 'pino';
import type { TracerProvider } from '@opentelemetry/api';
import { adminSource } from './admin/proxy-source.js';
import { proxyStats, type ProxyStats } from './net/proxy-stats.js';
import { startProxyTelemetry } from './telemetry/proxy-telemetry.js';
import type { AdminSource } from './admin/source.js';
import { VERSION } from './core/version.js';

let nextProxyId = 1;

/** The resolver of the empty table a context starts with (it has no route to resolve). */
const noMode = (): Mode => {
  throw new Error('no mode table yet');
};

/** The sweep driver's tick: a pass over every connection is spread over period / tick ticks. */
const SWEEP_TICK_MS = 50;

export interface SightlineDeps {
  /** Injected clock (tests); defaults to a monotonic epoch clock. */
  readonly clock?: Clock;
  /** Drive the wheel and sweep from real intervals (false: tests call `tick()`). */
  readonly autoTick?: boolean;
  /** A pino logger to use instead of the one `telemetry.logging` describes (null: no logs). */
  readonly logger?: Logger | null;
  /** An OpenTelemetry tracer provider (the CLI: NodeSDK from OTEL_*; tests: in-memory); otherwise the one an application registered globally, if any. Sightline never registers one. */
  readonly tracerProvider?: TracerProvider;
  /** Listen with SO_REUSEPORT (cluster workers: the kernel balances connections between them). */
  readonly reusePort?: boolean;
}

export class SightlineProxy {
  readonly #ctx: ProxyContext;
  /** The listening sockets, one per port the routes use. */
  readonly #listeners: ListenerSet;
  #sweep: NodeJS.Timeout | null = null;
  /** Releases this proxy's hold on the read-buffer GC pacer (src/core/buffer-gc.ts). */
  #releaseBufferGc: (() => void) | null = null;
  readonly #sweeper: Sweeper;
  /** undefined: build one from `telemetry.logging` at start(); null: no logs. */
  #logger: Logger | null | undefined;
  readonly #tracerProvider: TracerProvider | undefined;
  #telemetry: Telemetry | null = null;
  #admin: { readonly url: string; close(): Promise<void> } | null = null;
  #lastExpire = 0;
  #started = false;
  #stopping: Promise<void> | null = null;
  /** stopNow(): the drain stops waiting and closes what is left. */
  #hurry = false;
  /** The content hash of the configuration file in use (config/config-hash.ts), null for options in code. */
  #configHash: string | null;

  readonly connectionManager: { getConnections(): Map<number, Connection> };

  constructor(options: SightlineOptions, deps: SightlineDeps = {}) {
    const resolved = validateOptions(options);
    this.#configHash = configHashOf(options);
    const clock = deps.clock ?? systemClock;
    const registry = new ConnectionRegistry();
    this.#ctx = {
      proxyId: nextProxyId++,
      clock,
      wheel: new TimerWheel(clock, { resolutionMs: 50, autoTick: deps.autoTick ?? true }),
      registry,
      options: resolved,
      // Compiled below, once the mode table (which needs this context) exists.
      table: new RouteTable<Mode>([], noMode),
      defaultRoute: null,
      proxyIPs: new IpMatcher(resolved.proxyIPs),
      draining: false,
      generation: 1,
      services: [],
      exhausted: null,
      admission: new Admission(resolved),
      timeouts: { keepAlive: effectiveTimeouts(resolved, true), plain: effectiveTimeouts(resolved, false) },
    };
    this.#autoTick = deps.autoTick ?? true;
    this.#sweeper = new Sweeper(this.#ctx);
    this.#logger = deps.logger;
    this.#tracerProvider = deps.tracerProvider;
    this.#listeners = new ListenerSet(this.#ctx, deps.reusePort === true);
    this.connectionManager = { getConnections: () => new Map(registry.live) };
    this.#modes = modeTable(this.#ctx);
    this.#ctx.services.push(...this.#modes.services);
    this.#ctx.table = new RouteTable(resolved.routes, this.#modes.resolve);
    this.#ctx.defaultRoute = defaultRouteOf(resolved, this.#modes.resolve);
  }

  /** Which mode each route runs, and the modes' background services (proxy/modes.ts). */
  readonly #modes: ModeTable;

  /** Close one open connection now (numeric or unique id) as `admin_closed`, recorded like any close; false when none is open. */
  closeConnection(id: number | string): boolean {
    return this.#ctx.registry.closeById(id) !== null;
  }
  /** Upstream keep-alive pools of HTTP routes: sockets open, idle, reused (tests, admin). */
  getUpstreamPoolStats(): PoolStats {
    return this.#modes.pools.stats();
  }

  readonly #autoTick: boolean;

  /** Distinguishes this instance's events from other proxies' in one process. */
  get id(): number {
    return this.#ctx.proxyId;
  }

  get options(): ResolvedOptions {
    return this.#ctx.options;
  }

  /** Ports with a listener, in ascending order. */
  get listeningPorts(): number[] {
    return this.#listeners.ports;
  }

  /**
   * Run deadlines and one full lifecycle sweep now (tests drive this with an injected clock and
   * `autoTick: false`). Returns how many connections the sweep closed.
   */
  tick(): number {
    const now = this.#ctx.clock.now();
    this.#ctx.wheel.tick(now);
    this.#ctx.admission.expire(now);
    for (const svc of this.#ctx.services) svc.sweep(now);
    this.#telemetry?.sweep(now);
    return this.#sweeper.full(now);
  }

  /**
   * The interval driver. Every connection is sampled and checked once per sweep period
   * (`min(activitySampleInterval, inactivityCheckInterval)`), a share of them on each tick.
   */
  sweepTick(): number {
    const ctx = this.#ctx;
    const now = ctx.clock.now();
    const period = sweepPeriod(ctx.options);
    const killed = this.#sweeper.step(now, Math.ceil((ctx.registry.size * SWEEP_TICK_MS) / period));
    for (const svc of ctx.services) svc.sweep(now);
    this.#telemetry?.sweep(now);
    if (now - this.#lastExpire >= 10_000) {
      this.#lastExpire = now;
      ctx.admission.expire(now);
    }
    return killed;
  }

  async start(): Promise<void> {
    if (this.#started) throw new SightlineError('SL_ERR_ALREADY_STARTED');
    this.#started = true;
    this.#ctx.draining = false;
    this.#view = null; // a new uptime
    for (const svc of this.#ctx.services) svc.open();
    try {
      // Metrics, logs, patterns and tracing: subscribers of the core's channels (L5).
      const deps = {
        logger: this.#logger,
        tracerProvider: this.#tracerProvider,
        generation: () => this.#ctx.generation,
        pools: () => this.#modes.pools.stats(),
      };
      this.#telemetry = await startProxyTelemetry(this.#ctx, deps);
      for (const port of this.#ctx.table.ports) await this.#listeners.listen(port);
      await this.#startAdmin();
    } catch (err) {
      await this.#listeners.closeAll();
      await this.#admin?.close();
      this.#admin = null;
      this.#started = false;
      await this.#telemetry?.close();
      this.#telemetry = null;
      throw err;
    }
    if (this.#autoTick) {
      this.#lastExpire = this.#ctx.clock.now();
      this.#sweep = setInterval(() => this.sweepTick(), Math.min(SWEEP_TICK_MS, sweepPeriod(this.#ctx.options)));
      this.#sweep.unref();
    }
    this.#releaseBufferGc = holdBufferGc();
    publishProxy('started', {
      proxyId: this.#ctx.proxyId,
      ports: this.listeningPorts,
      generation: this.#ctx.generation,
      configHash: this.#configHash,
    });
  }

  /** Stop accepting, let connections finish until `gracefulShutdownTimeout`, close the rest. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop().finally(() => {
      this.#stopping = null;
      this.#hurry = false;
    });
    return this.#stopping;
  }

  /**
   * Stop without waiting for connections to finish (a second SIGTERM): every open connection is
   * closed now with `shutdown`, so each still gets its close record. Joins a drain under way.
   */
  stopNow(): Promise<void> {
    this.#hurry = true;
    return this.stop();
  }

  async #stop(): Promise<void> {
    if (!this.#started) return;
    const ctx = this.#ctx;
    ctx.draining = true;
    publishProxy('draining', { proxyId: ctx.proxyId, open: ctx.registry.size });
    const closing = this.#listeners.closeAll();
    // HTTP connections idle between requests close, busy ones after their response; WebSockets
    // get close frames (1001): at once, or spread over drain.spreadMs with the tunnels (drain.ts).
    await drainConnections(ctx, () => this.#hurry);
    await closing;
    for (const svc of ctx.services) svc.close();
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
    this.#releaseBufferGc?.();
    this.#releaseBufferGc = null;
    ctx.wheel.close();
    this.#started = false;
    publishProxy('stopped', { proxyId: ctx.proxyId });
    await this.#admin?.close();
    this.#admin = null;
    await this.#telemetry?.close();
    this.#telemetry = null;
  }

  /**
   * Swap the route table atomically. New ports get listeners, ports no route uses any more stop
   * accepting; live connections keep the route they were given.
   */
  async updateRoutes(routes: readonly RouteConfig[]): Promise<void> {
    const resolved = validateRoutes(routes);
    await this.#swap(Object.freeze({ ...this.#ctx.options, routes: resolved }));
  }

  /**
   * Apply a whole validated configuration (the CLI's SIGHUP reload, `cli/reload.ts`): routes swap
   * as in updateRoutes (certificates come with the new routes, so a rotated certificate is served
   * to the next client), and what is read per connection (timeouts, buffers, PROXY protocol
   * trust, `defaults.target`, lifecycle thresholds) applies to new connections. What is bound at
   * start keeps its running value and is listed in `restartNeeded` when the file changed it.
   */
  async applyConfig(
    next: ResolvedOptions,
  ): Promise<{ generation: number; restartNeeded: string[]; configHash: string | null }> {
    // A drain closed the listeners; a swap now would open them again.
    if (this.#ctx.draining) throw new Error('the proxy is stopping; the configuration was not applied');
    const { merged, restartNeeded } = mergeForReload(this.#ctx.options, next);
    await this.#swap(merged, true, configHashOf(next));
    return { generation: this.#ctx.generation, restartNeeded, configHash: this.#configHash };
  }

  /** Count a reload that was refused (the running configuration stays): metrics and logs see it. */
  reloadFailed(error: string): void {
    publishProxy('reload-failed', {
      proxyId: this.#ctx.proxyId,
      generation: this.#ctx.generation,
      configHash: this.#configHash,
      error,
    });
  }

  /**
   * The one swap: listeners for new ports first (a port that cannot be bound fails the whole
   * swap and closes what it opened), then every derived piece of the context in one synchronous
   * step, then ports no route uses stop accepting.
   */
  async #swap(options: ResolvedOptions, whole = false, configHash: string | null = this.#configHash): Promise<void> {
    const table = new RouteTable(options.routes, this.#modes.resolve);
    const wanted = new Set(table.ports);
    const ctx = this.#ctx;
    if (this.#started) await this.#listeners.openMissing(wanted);
    ctx.options = options;
    ctx.table = table;
    if (whole) {
      ctx.defaultRoute = defaultRouteOf(options, this.#modes.resolve);
      ctx.proxyIPs = new IpMatcher(options.proxyIPs);
      ctx.timeouts = { keepAlive: effectiveTimeouts(options, true), plain: effectiveTimeouts(options, false) };
    }
    // Every applied change is a new generation (issue 14): connections routed from now on carry it,
    // live ones keep the generation of the route they were given.
    const previousGeneration = ctx.generation++;
    this.#configHash = configHash;
    this.#telemetry?.reconfigure(ctx.options);
    if (this.#started) this.#listeners.closeUnwanted(wanted);
    publishProxy('routes-updated', {
      proxyId: ctx.proxyId,
      routes: table.routes.map((r) => r.name),
      generation: ctx.generation,
      previousGeneration,
      configHash,
    });
  }

  getStats(): ProxyStats {
    return proxyStats(this.#ctx.registry, () => this.#ctx.generation);
  }

  /** The admin listener (L6): /metrics, health, the JSON API and the status page. */
  async #startAdmin(): Promise<void> {
    // The library opens no admin listener unless `admin` is configured (the CLI configures one).
    const a = this.#ctx.options.admin;
    if (a === undefined || !a.enabled) return;
    const { startAdmin } = await import('./admin/server.js');
    const source = this.adminView();
    // A port that cannot be bound rejects with SL_ERR_LISTEN (the CLI exits 2).
    this.#admin = await startAdmin(
      { host: a.host, port: a.port, token: a.token, allowedHosts: a.allowedHosts },
      source,
    );
  }

  /** What the admin API shows of this proxy (the CLI's cluster workers answer their primary with it). */
  adminView(): AdminSource {
    this.#view ??= adminSource({
      ctx: this.#ctx,
      telemetry: () => this.#telemetry,
      started: () => this.#started,
      pools: () => this.#modes.pools.stats(),
      version: VERSION,
      startedAt: this.#ctx.clock.now(),
      generation: () => this.#ctx.generation,
      configHash: () => this.#configHash,
    });
    return this.#view;
  }

  #view: AdminSource | null = null;

  /** Where the admin listener is (null when disabled or not started). */
  get adminUrl(): string | null {
    return this.#admin?.url ?? null;
  }

  /** The telemetry of this proxy (metrics, patterns, tracing), null before start. */
  get telemetry(): Telemetry | null {
    return this.#telemetry;
  }
}

function publishProxy(kind: ProxyEvent['kind'], detail: Record<string, unknown>): void {
  if (channels.proxy.hasSubscribers) channels.proxy.publish({ kind, detail });
}
