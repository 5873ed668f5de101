/**
 * `sightline:phase` (issue 12 point 3): every phase change of a connection is one event, in order,
 * from admission to closed, for a tunnel and for an HTTP connection.
 */
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_NAMES, type PhaseEvent } from '../../src/core/channels.js';
import { closed, connect, echoServer, freePorts, readBytes, waitFor, HOST, type TestServer } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

let echo: TestServer;
let web: http.Server;
let p: RunningProxy;
let tcpPort: number;
let httpPort: number;
const seen: PhaseEvent[] = [];
const onPhase = (m: unknown): void => {
  seen.push(m as PhaseEvent);
};

beforeAll(async () => {
  echo = await echoServer();
  web = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => web.listen(0, HOST, r));
  [tcpPort, httpPort] = (await freePorts(2)) as [number, number];
  p = await startProxy({
    routes: [
      { name: 'tcp', match: { ports: tcpPort }, action: { type: 'forward', target: { host: HOST, port: echo.port } } },
      {
        name: 'web',
        match: { ports: httpPort },
        action: {
          type: 'forward',
          protocol: 'http',
          target: { host: HOST, port: (web.address() as AddressInfo).port },
        },
      },
    ],
  });
  diagnostics.subscribe(CHANNEL_NAMES.phase, onPhase);
});

afterAll(async () => {
  diagnostics.unsubscribe(CHANNEL_NAMES.phase, onPhase);
  await p?.stop();
  await echo?.close();
  web.closeAllConnections();
  await new Promise<void>((r) => web.close(() => r()));
});

function pathOf(port: number): string[] {
  const mine = seen.filter((e) => e.conn.proxyId === p.proxy.id && e.conn.listenPort === port);
  // Each event continues where the previous one left off.
  for (let i = 1; i < mine.length; i++) expect(mine[i]!.from).toBe(mine[i - 1]!.to);
  return mine.length === 0 ? [] : [mine[0]!.from, ...mine.map((e) => e.to)];
}

describe('sightline:phase', () => {
  it('a tunnel: admission, routing, connecting, tunnel, closed', async () => {
    const s = await connect(tcpPort);
    s.write('hi');
    expect((await readBytes(s, 2)).toString()).toBe('hi');
    s.end();
    await closed(s);
    await waitFor(() => pathOf(tcpPort).at(-1) === 'closed');
    expect(pathOf(tcpPort)).toEqual(['admission', 'routing', 'connecting', 'tunnel', 'closed']);
  });

  it('an HTTP connection: admission, routing, http, closed', async () => {
    const s = await connect(httpPort);
    s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect((await readBytes(s, 12)).toString()).toMatch(/^HTTP\/1\.1 200/);
    await closed(s);
    await waitFor(() => pathOf(httpPort).at(-1) === 'closed');
    expect(pathOf(httpPort)).toEqual(['admission', 'routing', 'http', 'closed']);
  });
});
