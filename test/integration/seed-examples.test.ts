/**
 * The seed guide's three examples, pasted with only the import and class name changed
 * (SmartProxy → SightlineProxy). They listen on port 443 as written: the test needs root or
 * CAP_NET_BIND_SERVICE (CI runs as root) and skips with that reason otherwise.
 */
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { SightlineProxy } from '../../src/index.js';

async function port443Free(): Promise<boolean> {
  const s = net.createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(443, () => s.close(() => resolve(true)));
  });
}

const canBind = await port443Free();
const why = 'port 443 cannot be bound here (not root, or in use)';

describe.skipIf(!canBind)(`seed guide examples (${canBind ? 'binding 443' : why})`, () => {
  it('Option 1: extended keep-alive treatment', async () => {
    const proxy = new SightlineProxy({
      // Extend timeout for keep-alive connections
      keepAliveTreatment: 'extended',
      keepAliveInactivityMultiplier: 10, // 10x the base timeout
      inactivityTimeout: 14400000, // 4 hours base (40 hours with multiplier)
      routes: [
        {
          name: 'websocket-passthrough',
          match: {
            ports: 443,
            domains: ['ws.example.com', 'wss.example.com'],
          },
          action: {
            type: 'forward',
            target: { host: 'backend', port: 443 },
            tls: { mode: 'passthrough' },
          },
        },
      ],
    });
    await proxy.start();
    expect(proxy.listeningPorts).toEqual([443]);
    expect(proxy.options.keepAliveInactivityMultiplier).toBe(10);
    await proxy.stop();
  });

  it('Option 2: immortal connections', async () => {
    const proxy = new SightlineProxy({
      // Never timeout keep-alive connections
      keepAliveTreatment: 'immortal',
      routes: [
        {
          name: 'websocket-passthrough',
          match: { ports: 443, domains: ['ws.example.com', 'wss.example.com'] },
          action: { type: 'forward', target: { host: 'backend', port: 443 }, tls: { mode: 'passthrough' } },
        },
      ],
    });
    await proxy.start();
    expect(proxy.options.keepAliveTreatment).toBe('immortal');
    await proxy.stop();
  });

  it('Option 3: per-route security settings, and the seed monitoring calls', async () => {
    const proxy = new SightlineProxy({
      routes: [
        {
          name: 'websocket-passthrough',
          match: {
            ports: 443,
            domains: ['ws.example.com'],
          },
          action: {
            type: 'forward',
            target: { host: 'backend', port: 443 },
            tls: { mode: 'passthrough' },
          },
          security: {
            // Disable connection limits for this route
            maxConnections: 0, // 0 = unlimited
            maxConnectionsPerIP: 0, // 0 = unlimited
          },
        },
      ],
    });
    await proxy.start();
    const stats = proxy.getStats();
    expect(stats.getActiveConnections()).toBe(0);
    expect(stats.getConnectionsByRoute()).toBeInstanceOf(Map);
    const connections = proxy.connectionManager.getConnections();
    expect(connections).toBeInstanceOf(Map);
    await proxy.stop();
  });
});
