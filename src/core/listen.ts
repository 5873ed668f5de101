/**
 * Listen on a server and settle once: resolves when it listens, rejects with the error that kept it
 * from listening. The one-shot 'error' listener is removed on success, so a later server error is
 * not taken for a listen failure (the caller adds its own long-lived handler if it wants one).
 */
import type net from 'node:net';
import { SightlineError } from './errors.js';

/**
 * `what` names the port in the error (e.g. "admin port 9464 on 127.0.0.1"): with it, a failure is a
 * SightlineError SL_ERR_LISTEN (the CLI exits 2) whose cause is the system error; without, the
 * system error itself.
 */
export function listen(server: net.Server, options: net.ListenOptions, what?: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        what === undefined
          ? err
          : new SightlineError('SL_ERR_LISTEN', `${what}: ${err.code ?? err.message}`, { cause: err }),
      );
    };
    server.once('error', onError);
    server.listen(options, () => {
      server.removeListener('error', onError);
      resolve();
    });
  });
}
