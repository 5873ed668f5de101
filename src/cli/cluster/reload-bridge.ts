/**
 * THE ONE PLACE a cluster worker reloads its configuration (SIGHUP on the primary → a `reload`
 * message to every worker → here). A stand-in with the signature of `reloadFromFile(proxy, file)`
 * from src/cli/reload.ts (single-process SIGHUP reload, built on another branch): at merge, replace
 * this file's body with `export { reloadFromFile } from '../reload.js';`.
 * Until then: validate with the configuration loader and swap the routes.
 */
import { loadConfigFile } from '../../config/load.js';
import type { SightlineProxy } from '../../server.js';
import { describeError } from '../describe-error.js';

let generation = 0;

export async function reloadFromFile(proxy: SightlineProxy, file: string): Promise<{ ok: true; generation: number } | { ok: false; error: string }> {
  try {
    const options = await loadConfigFile(file);
    await proxy.updateRoutes(options.routes);
    return { ok: true, generation: ++generation };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}
