/** Start a SightlineProxy on free loopback ports for a test, with its close events captured. */
import { SightlineProxy, type SightlineDeps } from '../../src/server.js';
import type { SightlineOptions } from '../../src/config/schema.js';
import { CloseEvents, RequestEvents } from './net.js';

export interface RunningProxy {
  readonly proxy: SightlineProxy;
  readonly events: CloseEvents;
  /** HTTP exchanges (sightline:http:request). */
  readonly requests: RequestEvents;
  stop(): Promise<void>;
}

export async function startProxy(options: SightlineOptions, deps?: SightlineDeps): Promise<RunningProxy> {
  // Tests stay quiet unless they pass a logger of their own.
  // No admin listener unless a test asks for one (the default port 9464 would collide).
  const proxy = new SightlineProxy(
    { listenHost: '127.0.0.1', admin: { enabled: false }, ...options },
    { logger: null, ...deps },
  );
  const events = new CloseEvents().forProxy(proxy.id);
  const requests = new RequestEvents().forProxy(proxy.id);
  await proxy.start();
  return {
    proxy,
    events,
    requests,
    stop: async () => {
      await proxy.stop();
      events.dispose();
      requests.dispose();
    },
  };
}
