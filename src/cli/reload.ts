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
  | { readonly ok: true; readonly generation: number; readonly restartNeeded: readonly string[] }
  | { readonly ok: false; readonly error: string };

/** Only one reload at a time: a burst of SIGHUPs is applied in order, each against the file as it is then. */
const queues = new WeakMap<SightlineProxy, Promise<unknown>>();

export function reloadFromFile(proxy: SightlineProxy, file: string): Promise<ReloadResult> {
  const run = async (): Promise<ReloadResult> => {
    try {
      const next = await loadCliConfig(file);
      const { generation, restartNeeded } = await proxy.applyConfig(next);
      return { ok: true, generation, restartNeeded };
    } catch (err) {
      const error = configErrorText(err, file);
      proxy.reloadFailed(error);
      return { ok: false, error };
    }
  };
  const prev = queues.get(proxy) ?? Promise.resolve();
  const p = prev.then(run, run);
  queues.set(proxy, p);
  return p;
}
