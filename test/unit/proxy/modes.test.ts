/**
 * The mode table (issue 12 point 1): a route's mode is resolved once, when the table is compiled,
 * from its action type, TLS mode and protocol; terminating routes get a mode that hands the
 * decrypted stream to HTTP or to the tunnel.
 */
import { describe, expect, it } from 'vitest';
import { validateRoutes } from '../../../src/config/validate.js';
import type { ProxyContext } from '../../../src/net/context.js';
import { modeTable } from '../../../src/proxy/modes.js';
import { RouteTable } from '../../../src/routing/route-table.js';

const target = { host: '127.0.0.1', port: 9 };

describe('mode table', () => {
  // The pools only keep the context until a request needs them; nothing here reaches one.
  const modes = modeTable({} as ProxyContext);
  const table = new RouteTable(
    validateRoutes([
      { name: 'tcp', match: { ports: 1 }, action: { type: 'forward', target } },
      {
        name: 'pass',
        match: { ports: 2, domains: 'a.test' },
        action: { type: 'forward', target, tls: { mode: 'passthrough' } },
      },
      { name: 'http', match: { ports: 3 }, action: { type: 'forward', protocol: 'http', target } },
      { name: 'handler', match: { ports: 4 }, action: { type: 'socket-handler', socketHandler: () => {} } },
    ]),
    modes.resolve,
  );
  const mode = (name: string): string => table.routes.find((r) => r.name === name)!.mode.name;

  it('names one mode per kind of route', () => {
    expect(mode('tcp')).toBe('tunnel');
    expect(mode('pass')).toBe('tunnel');
    expect(mode('http')).toBe('http');
    expect(mode('handler')).toBe('socket-handler');
  });

  it('terminating routes: tls-terminate, one value per inner mode, shared by routes', () => {
    const facts = (protocol: 'http' | 'tcp') => ({
      tlsMode: 'terminate' as const,
      protocol,
      config: table.routes[0]!.config,
    });
    const toHttp = modes.resolve(facts('http'));
    const toTunnel = modes.resolve(facts('tcp'));
    expect(toHttp.name).toBe('tls-terminate');
    expect(toTunnel.name).toBe('tls-terminate');
    expect(toHttp).not.toBe(toTunnel);
    expect(modes.resolve(facts('http'))).toBe(toHttp);
    expect(modes.resolve({ ...facts('tcp'), tlsMode: 'terminate-and-reencrypt' })).toBe(toTunnel);
  });

  it('registers the upstream pools as a background service', () => {
    expect(modes.services).toEqual([modes.pools]);
  });
});
