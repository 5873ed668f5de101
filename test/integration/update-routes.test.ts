import { describe, expect, it } from 'vitest';
import { closed, connect, freePorts, readBytes, taggedServer, HOST } from '../helpers/net.js';
import { startProxy } from '../helpers/proxy.js';

const route = (name: string, port: number, target: number) => ({
  name,
  match: { ports: port },
  action: { type: 'forward' as const, target: { host: HOST, port: target } },
});

describe('updateRoutes', () => {
  it('swaps atomically: live connections keep their route, new ones take the new table, ports open and close', async () => {
    const a = await taggedServer('A');
    const b = await taggedServer('B');
    const [p1, p2] = await freePorts(2);
    const p = await startProxy({ routes: [route('old', p1!, a.port)] });

    const live = await connect(p1!);
    expect((await readBytes(live, 1)).toString()).toBe('A');

    await p.proxy.updateRoutes([route('new', p1!, b.port), route('extra', p2!, a.port)]);
    expect(p.proxy.listeningPorts).toEqual([p1, p2].sort((x, y) => x! - y!));

    // The live connection still reaches A and still echoes.
    live.write('still');
    expect((await readBytes(live, 5)).toString()).toBe('still');
    const conns = [...p.proxy.connectionManager.getConnections().values()];
    expect(conns.map((c) => c.routeName)).toEqual(['old']);

    const fresh = await connect(p1!);
    expect((await readBytes(fresh, 1)).toString()).toBe('B');
    const other = await connect(p2!);
    expect((await readBytes(other, 1)).toString()).toBe('A');
    expect(p.proxy.getStats().getConnectionsByRoute()).toEqual(
      new Map([
        ['old', 1],
        ['new', 1],
        ['extra', 1],
      ]),
    );

    // Dropping port p2 closes its listener but not the connection it carries.
    await p.proxy.updateRoutes([route('new', p1!, b.port)]);
    other.write('x');
    expect((await readBytes(other, 1)).toString()).toBe('x');
    await expect(connect(p2!)).rejects.toThrow(/ECONNREFUSED/);

    for (const s of [live, fresh, other]) s.end();
    await Promise.all([live, fresh, other].map((s) => closed(s)));
    await p.stop();
    await Promise.all([a.close(), b.close()]);
  });

  it('rejects an invalid route table and keeps the old one', async () => {
    const a = await taggedServer('A');
    const [p1] = await freePorts(1);
    const p = await startProxy({ routes: [route('keep', p1!, a.port)] });
    await expect(
      p.proxy.updateRoutes([
        { name: 'bad', match: { ports: 70000 }, action: { type: 'forward', target: { host: HOST, port: 1 } } },
      ]),
    ).rejects.toThrow(/ports/);
    const s = await connect(p1!);
    expect((await readBytes(s, 1)).toString()).toBe('A');
    s.destroy();
    await p.stop();
    await a.close();
  });
});
