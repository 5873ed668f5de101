/**
 * Reloading the configuration file of a running proxy (SIGHUP in `sightline start`; a cluster
 * worker calls the same function): read, parse and validate the whole file, certificates
 * included, then swap it in atomically with `applyConfig`. Anything wrong leaves the running
 * configuration untouched; the failure is counted (`sightline_config_reload_failures_total`) and
 * logged by the proxy's telemetry, and returned for the caller to print.
 */
import { loadConfigFile } from '../config/load.js';
import type { ResolvedOptions } from '../config/schema.js';
import type { SightlineProxy } from '../server.js';
import { configErrorText } from './config-errors.js';

/** What the CLI adds when the file does not say: the admin listener on 127.0.0.1:9464. */
export const CLI_DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze({ admin: {} });

/** A configuration file as the CLI reads it (the admin listener on unless the file says otherwise). */
export function loadCliConfig(file: string): Promise<ResolvedOptions> {
  return loadConfigFile(file, CLI_DEFAULTS);
}

export type ReloadResult =
  | {
      readonly ok: true;
      readonly generation: number;
      readonly restartNeeded: readonly string[];
      readonly configHash?: string | null;
    }
  | { readonly ok: false; readonly error: string };

/**
 * One reload at a time, and at most one waiting: a burst of SIGHUPs during a reload becomes one
 * more reload (which reads the file as it is then), not a queue as long as the burst.
 */
interface Lane {
  running: Promise<ReloadResult> | null;
  waiting: Promise<ReloadResult> | null;
}
const lanes = new WeakMap<SightlineProxy, Lane>();

async function reloadOnce(proxy: SightlineProxy, file: string): Promise<ReloadResult> {
  try {
    const next = await loadCliConfig(file);
    const { generation, restartNeeded, configHash } = await proxy.applyConfig(next);
    return { ok: true, generation, restartNeeded, configHash };
  } catch (err) {
    const error = configErrorText(err, file);
    proxy.reloadFailed(error);
    return { ok: false, error };
  }
}

export function reloadFromFile(proxy: SightlineProxy, file: string): Promise<ReloadResult> {
  let lane = lanes.get(proxy);
  if (lane === undefined) lanes.set(proxy, (lane = { running: null, waiting: null }));
  const l = lane;
  if (l.waiting !== null) return l.waiting;
  const start = (): Promise<ReloadResult> => {
    const p = reloadOnce(proxy, file).finally(() => {
      if (l.running === p) l.running = null;
    });
    l.running = p;
    return p;
  };
  if (l.running === null) return start();
  const after = l.running.then(() => {
    l.waiting = null;
    return start();
  });
  l.waiting = after;
  return after;
}
