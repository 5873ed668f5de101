/** Close reasons outside the byte pump: socket handlers, target failures, shutdown, defaults. */
import { describe, expect, it } from 'vitest';
import { closed, connect, customServer, freePorts, readBytes, taggedServer, HOST } from '../helpers/net.js';
import { startProxy } from '../helpers/proxy.js';

describe('other close reasons', () => {
  it('socket-handler routes get the socket; the close is handler_closed', async () => {
    const [port] = await freePorts(1);
    const p = await startProxy({
      routes: [
        {
          name: 'handler',
          match: { ports: port! },
          action: {
            type: 'socket-handler',
            socketHandler: (socket: import('node:net').Socket) => {
              socket.once('data', (d: Buffer) => socket.end(`handled:${d.toString()}`));
            },
          },
        },
      ],
    });
    const s = await connect(port!);
    s.write('hi');
    expect((await readBytes(s, 1e6)).toString()).toBe('handled:hi');
    s.end();
    const ev = await p.events.next();
    expect(ev.reason).toBe('handler_closed');
    await p.stop();
  });

  it('a target function that throws: target_resolution_failed, proxy keeps serving', async () => {
    const [port] = await freePorts(1);
    const p = await startProxy({
      routes: [
        {
          name: 'broken',
          match: { ports: port! },
          action: {
            type: 'forward',
            target: {
              host: () => {
                throw new Error('lookup service down');
              },
              port: 1,
            },
          },
        },
      ],
    });
    for (let i = 0; i < 2; i++) {
      const s = await connect(port!);
      await closed(s);
    }
    const ev = await p.events.next();
    expect(ev.reason).toBe('target_resolution_failed');
    expect(ev.error).toContain('lookup service down');
    expect(ev.error).toMatch(/^route target could not be resolved: /); // SL_ERR_TARGET's message
    expect(p.events.events).toHaveLength(2);
    await p.stop();
  });

  it('stop() drains: a connection that finishes in time closes normally, the rest get shutdown', async () => {
    const srv = await customServer((s) => s.pipe(s));
    const [port] = await freePorts(1);
    const p = await startProxy({
      gracefulShutdownTimeout: 300,
      routes: [
        { name: 'd', match: { ports: port! }, action: { type: 'forward', target: { host: HOST, port: srv.port } } },
      ],
    });
    const finishes = await connect(port!);
    const lingers = await connect(port!);
    finishes.write('a');
    lingers.write('b');
    await readBytes(finishes, 1);
    await readBytes(lingers, 1);
    const stopping = p.proxy.stop();
    // New connections are refused while draining.
    await expect(connect(port!)).rejects.toThrow(/ECONNREFUSED/);
    finishes.end();
    await stopping;
    await closed(lingers);
    const reasons = p.events.events.map((e) => [
      e.conn.remotePort === finishes.localPort ? 'finishes' : 'lingers',
      e.reason,
    ]);
    expect(reasons).toContainEqual(['finishes', 'client_closed']);
    expect(reasons).toContainEqual(['lingers', 'shutdown']);
    p.events.dispose();
    await srv.close();
  });

  it('defaults.target takes connections no route matched', async () => {
    const fallback = await taggedServer('F');
    const a = await taggedServer('A');
    const [port] = await freePorts(1);
    const p = await startProxy({
      defaults: { target: { host: HOST, port: fallback.port } },
      routes: [
        {
          name: 'only-10',
          match: { ports: port!, clientIp: ['10.0.0.0/8'] },
          action: { type: 'forward', target: { host: HOST, port: a.port } },
        },
      ],
    });
    const s = await connect(port!);
    expect((await readBytes(s, 1)).toString()).toBe('F');
    s.destroy();
    await p.stop();
    await Promise.all([fallback.close(), a.close()]);
  });

  it('routes on clientIp (CIDR) and closes non-matching clients with no_route', async () => {
    const a = await taggedServer('A');
    const [port] = await freePorts(1);
    const p = await startProxy({
      routes: [
        {
          name: 'loop',
          match: { ports: port!, clientIp: ['127.0.0.0/8'] },
          action: { type: 'forward', target: { host: HOST, port: a.port } },
        },
      ],
    });
    const s = await connect(port!);
    expect((await readBytes(s, 1)).toString()).toBe('A');
    s.destroy();
    await p.proxy.updateRoutes([
      {
        name: 'ten',
        match: { ports: port!, clientIp: ['10.0.0.0/8', '::ffff:192.168.0.0/112'] },
        action: { type: 'forward', target: { host: HOST, port: a.port } },
      },
    ]);
    const r = await connect(port!);
    await closed(r);
    expect((await p.events.next((e) => e.conn.remotePort === r.localPort)).reason).toBe('no_route');
    await p.stop();
    await a.close();
  });
});
