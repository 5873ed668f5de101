/**
 * The timers Sightline itself enforces on each route, read from the resolved options, so the
 * pattern detector can name its own closes by the config key and value that decided them
 * (`inactivityTimeout: 30000` on route X), say when a measured period equals one of them, and list
 * them when the fingerprint table knows nothing at a period. Built once per config (start and
 * every route reload); pure.
 */
import { CloseReason } from '../core/close-reasons.js';
import { websocketDefaults, type ResolvedOptions, type ResolvedRoute } from '../config/schema.js';
import { TimerFamily } from './fingerprints.js';

export interface ConfiguredTimer {
  /** The config key(s) as a user writes them, with the value: `inactivityTimeout: 30000`. */
  readonly setting: string;
  /** The effective value in ms (what the timer fires at). */
  readonly ms: number;
  readonly family: TimerFamily;
  /** The close reason this timer ends connections with (null: it does not end client connections). */
  readonly reason: CloseReason | null;
}

const terminating = (r: ResolvedRoute): boolean =>
  r.action.tls?.mode === 'terminate' || r.action.tls?.mode === 'terminate-and-reencrypt';
const isTls = (r: ResolvedRoute): boolean => r.action.tls !== undefined;
/** The protocol rule of CompiledRoute (routing/route-table.ts), on the config alone. */
const isHttp = (r: ResolvedRoute): boolean =>
  r.action.protocol === 'http' ||
  (r.action.protocol === undefined && (terminating(r) || r.match.path !== undefined || r.match.headers !== undefined));

const t = (setting: string, ms: number, family: TimerFamily, reason: CloseReason | null): ConfiguredTimer =>
  Object.freeze({ setting, ms, family, reason });

/** The idle timeout, age cap and socket timeout every route shares (compat-semantics §3, net/timeouts.ts). */
function globalTimers(o: ResolvedOptions): ConfiguredTimer[] {
  const out: ConfiguredTimer[] = [];
  const base = o.inactivityTimeout > 0 ? o.inactivityTimeout : 14_400_000;
  const treat = o.keepAlive ? o.keepAliveTreatment : 'standard';
  if (treat === 'immortal') return out;
  if (!o.disableInactivityCheck) {
    out.push(
      treat === 'extended'
        ? t(
            `inactivityTimeout: ${o.inactivityTimeout} × keepAliveInactivityMultiplier: ${o.keepAliveInactivityMultiplier}`,
            base * o.keepAliveInactivityMultiplier,
            TimerFamily.Idle,
            CloseReason.Inactivity,
          )
        : t(`inactivityTimeout: ${o.inactivityTimeout}`, base, TimerFamily.Idle, CloseReason.Inactivity),
    );
    if (!o.keepAlive && o.socketTimeout > 0)
      out.push(t(`socketTimeout: ${o.socketTimeout}`, o.socketTimeout, TimerFamily.Idle, CloseReason.SocketTimeout));
  }
  const cap =
    treat === 'extended'
      ? (['extendedKeepAliveLifetime', o.extendedKeepAliveLifetime] as const)
      : (['maxConnectionLifetime', o.maxConnectionLifetime] as const);
  if (cap[1] > 0) out.push(t(`${cap[0]}: ${cap[1]}`, cap[1], TimerFamily.Age, CloseReason.Lifetime));
  return out;
}

/** Every timer Sightline enforces on connections of `r`. */
export function timersOfRoute(o: ResolvedOptions, r: ResolvedRoute): ConfiguredTimer[] {
  const out = globalTimers(o);
  const l = o.lifecycle;
  const [zombieKey, zombie] = isTls(r)
    ? ['lifecycle.halfZombieGraceTls', l.halfZombieGraceTls]
    : ['lifecycle.halfZombieGrace', l.halfZombieGrace];
  if (zombie > 0) out.push(t(`${zombieKey}: ${zombie}`, zombie, TimerFamily.Idle, CloseReason.HalfZombie));
  const [stuckKey, stuck] = isTls(r)
    ? ['lifecycle.stuckThresholdTls', l.stuckThresholdTls]
    : ['lifecycle.stuckThreshold', l.stuckThreshold];
  if (stuck > 0) out.push(t(`${stuckKey}: ${stuck}`, stuck, TimerFamily.Idle, CloseReason.Stuck));
  // A peer that stopped reading: measured from the last write progress, an idle timer of the send side.
  if (l.writeStallTimeout > 0)
    out.push(
      t(
        `lifecycle.writeStallTimeout: ${l.writeStallTimeout}`,
        l.writeStallTimeout,
        TimerFamily.Idle,
        CloseReason.WriteStall,
      ),
    );
  if (isHttp(r)) {
    const ws = r.action.websocket ?? websocketDefaults;
    if (ws.enabled && ws.pingInterval > 0) {
      // A client silent from the start is pinged at pingInterval and cut pingTimeout later.
      out.push(
        t(
          `websocket.pingInterval: ${ws.pingInterval} + pingTimeout: ${ws.pingTimeout}`,
          ws.pingInterval + ws.pingTimeout,
          TimerFamily.Idle,
          CloseReason.HeartbeatTimeout,
        ),
      );
    }
    const h = o.http;
    out.push(
      t(
        `http.keepAliveTimeout: ${h.keepAliveTimeout}`,
        h.keepAliveTimeout,
        TimerFamily.Idle,
        CloseReason.HttpKeepAliveTimeout,
      ),
    );
    if (h.requestBodyTimeout > 0) {
      out.push(
        t(
          `http.requestBodyTimeout: ${h.requestBodyTimeout}`,
          h.requestBodyTimeout,
          TimerFamily.Idle,
          CloseReason.HttpBodyTimeout,
        ),
      );
    }
    out.push(
      t(
        `http.responseTimeout: ${h.responseTimeout}`,
        h.responseTimeout,
        TimerFamily.Age,
        CloseReason.HttpResponseTimeout,
      ),
    );
    if (h.upstream.maxLifetime > 0)
      out.push(
        t(`http.upstream.maxLifetime: ${h.upstream.maxLifetime}`, h.upstream.maxLifetime, TimerFamily.Shared, null),
      );
  }
  return out;
}

/** Route name (as CompiledRoute names it) → its timers. */
export function configuredTimers(o: ResolvedOptions): ReadonlyMap<string, readonly ConfiguredTimer[]> {
  const m = new Map<string, readonly ConfiguredTimer[]>();
  o.routes.forEach((r, i) => m.set(r.name ?? `route-${i}`, Object.freeze(timersOfRoute(o, r))));
  return m;
}
