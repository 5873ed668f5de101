/**
 * Behind a load balancer that sends PROXY protocol, the peer (the LB) and the client (the
 * header's source) are two facts: per-IP limits and the per-minute rate are charged and released
 * against the client, never the LB (issue 11 point 3). Before the fix, the count was charged to
 * the LB at accept and released against the client at close: every client was refused after the
 * limit-th connection.
 */
import { describe, expect, it } from 'vitest';
import { closed, connect, customServer, freePorts, readBytes, HOST, waitFor } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';
import { encodeProxyV1, encodeProxyV2 } from '../../src/protocol/proxy-protocol.js';
import type net from 'node:net';

const header = (version: 'v1' | 'v2', client: string): Buffer => {
  const src = { address: client, port: 40_000 };
  const dst = { address: '198.51.100.1', port: 443 };
  return version === 'v1' ? encodeProxyV1(src, dst) : encodeProxyV2(src, dst);
};

async function rig(): Promise<{ p: RunningProxy; port: number; close(): Promise<void> }> {
  const backend = await customServer((s) => s.pipe(s));
  const [port] = await freePorts(1);
  const p = await startProxy({
    acceptProxyProtocol: true,
    proxyIPs: ['127.0.0.1'],
    maxConnectionsPerIP: 5,
    // The default rate (300 a minute per IP) stays on: 1000 connections from the LB's address
    // would trip it; spread over 20 clients (50 each) they must not.
    routes: [
      { name: 'lb', match: { ports: port! }, action: { type: 'forward', target: { host: HOST, port: backend.port } } },
    ],
  });
  return {
    p,
    port: port!,
    close: async () => {
      await p.stop();
      await backend.close();
    },
  };
}

/** One exchange through the LB: header + 'ping', the echo back, FIN, close. */
async function oneExchange(port: number, h: Buffer): Promise<string> {
  const s = await connect(port);
  s.write(Buffer.concat([h, Buffer.from('ping')]));
  const got = (await readBytes(s, 4, 5000)).toString();
  s.end();
  await closed(s);
  return got;
}

const refusals = (p: RunningProxy): number =>
  p.events.events.filter((e) => e.reason === 'ip_connection_limit' || e.reason === 'rate_limited').length;

describe('PROXY protocol: limits are charged to the client, not the load balancer', () => {
  for (const version of ['v1', 'v2'] as const) {
    it(`${version}: 1000 sequential connections from 20 clients through one LB, maxConnectionsPerIP 5: none refused`, async () => {
      const r = await rig();
      let ok = 0;
      for (let i = 0; i < 1000; i++) {
        if ((await oneExchange(r.port, header(version, `203.0.113.${(i % 20) + 1}`))) === 'ping') ok++;
      }
      await waitFor(() => r.p.proxy.getStats().getActiveConnections() === 0, 5000, 'records closed');
      expect(ok).toBe(1000);
      expect(refusals(r.p)).toBe(0);
      const last = r.p.events.events.at(-1)!;
      // Two facts on the record: the peer is the LB, the client the header's source.
      expect(last.conn.peerIP).toBe('127.0.0.1');
      expect(last.conn.remoteIP).toMatch(/^203\.0\.113\./);
      await r.close();
    }, 60_000);

    it(`${version}: 6 concurrent connections of one client: exactly one refused (ip_connection_limit)`, async () => {
      const r = await rig();
      const open: net.Socket[] = [];
      for (let i = 0; i < 6; i++) {
        const s = await connect(r.port);
        s.on('error', () => {});
        s.write(Buffer.concat([header(version, '203.0.113.99'), Buffer.from('ping')]));
        open.push(s);
        // Each header is read before the next connection opens: the order of charges is fixed.
        await waitFor(
          () =>
            r.p.events.events.length > 0 ||
            [...r.p.proxy.connectionManager.getConnections().values()].filter((c) => c.remoteIP === '203.0.113.99')
              .length ===
              i + 1,
          5000,
          `connection ${i + 1} admitted`,
        );
      }
      await r.p.events.next((e) => e.reason === 'ip_connection_limit');
      expect(r.p.events.reasons().filter((x) => x === 'ip_connection_limit')).toHaveLength(1);
      expect(r.p.proxy.getStats().getActiveConnections()).toBe(5);
      // The refused one is charged to the client; the LB itself is not limited.
      const refused = r.p.events.events.find((e) => e.reason === 'ip_connection_limit')!;
      expect(refused.conn.remoteIP).toBe('203.0.113.99');
      expect(refused.conn.peerIP).toBe('127.0.0.1');
      // Another client through the same LB is still admitted while these five are open.
      expect(await oneExchange(r.port, header(version, '203.0.113.100'))).toBe('ping');
      for (const s of open) s.destroy();
      await waitFor(() => r.p.proxy.getStats().getActiveConnections() === 0, 5000, 'records closed');
      // Released against the same key: the client may open five again.
      for (let i = 0; i < 5; i++) expect(await oneExchange(r.port, header(version, '203.0.113.99'))).toBe('ping');
      expect(refusals(r.p)).toBe(1);
      await r.close();
    }, 30_000);
  }
});
