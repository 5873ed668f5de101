import { describe, expect, it } from 'vitest';
import { closed, connect, customServer, freePorts, readBytes, HOST } from '../helpers/net.js';
import { startProxy } from '../helpers/proxy.js';
import { encodeProxyV1, encodeProxyV2, parseProxyHeader } from '../../src/protocol/proxy-protocol.js';

/** Backend that parses the PROXY header it receives and answers with what it saw, then echoes. */
async function headerReportingBackend() {
  return customServer((s) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const r = parseProxyHeader(buf);
      if (r.status === 'need-more') return;
      s.removeListener('data', onData);
      if (r.status !== 'done') {
        s.end(`no-header:${r.status}`);
        return;
      }
      const h = r.header;
      s.write(`v${h.version} ${h.sourceAddress}:${h.sourcePort}|`);
      const rest = buf.subarray(h.length);
      if (rest.length) s.write(rest);
      s.pipe(s);
    };
    s.on('data', onData);
  });
}

describe('PROXY protocol', () => {
  for (const version of ['v1', 'v2'] as const) {
    it(`round trip ${version}: accepts a header from a trusted peer and sends one to the backend`, async () => {
      const backend = await headerReportingBackend();
      const [port] = await freePorts(1);
      const p = await startProxy({
        acceptProxyProtocol: true,
        proxyIPs: ['127.0.0.1'],
        routes: [
          {
            name: 'pp',
            match: { ports: port! },
            action: { type: 'forward', target: { host: HOST, port: backend.port }, sendProxyProtocol: version },
          },
        ],
      });
      const s = await connect(port!);
      const src = { address: '203.0.113.7', port: 40123 };
      const dst = { address: '198.51.100.1', port: 443 };
      s.write(
        Buffer.concat([version === 'v1' ? encodeProxyV1(src, dst) : encodeProxyV2(src, dst), Buffer.from('payload')]),
      );
      const expected = `v${version === 'v1' ? 1 : 2} 203.0.113.7:40123|payload`;
      expect((await readBytes(s, expected.length)).toString()).toBe(expected);
      const conns = [...p.proxy.connectionManager.getConnections().values()];
      expect(conns[0]?.remoteIP).toBe('203.0.113.7');
      s.destroy();
      await p.stop();
      await backend.close();
    });
  }

  it('IPv6 source through v2', async () => {
    const backend = await headerReportingBackend();
    const [port] = await freePorts(1);
    const p = await startProxy({
      acceptProxyProtocol: true,
      proxyIPs: ['127.0.0.0/8'],
      routes: [
        {
          name: 'pp6',
          match: { ports: port! },
          action: { type: 'forward', target: { host: HOST, port: backend.port }, sendProxyProtocol: 'v2' },
        },
      ],
    });
    const s = await connect(port!);
    s.write(encodeProxyV2({ address: '2001:db8::1', port: 5555 }, { address: '2001:db8::2', port: 443 }));
    const expected = 'v2 2001:db8::1:5555|';
    expect((await readBytes(s, expected.length)).toString()).toBe(expected);
    s.destroy();
    await p.stop();
    await backend.close();
  });

  it('ignores PROXY headers from untrusted peers (passed through as data)', async () => {
    const backend = await customServer((s) => s.pipe(s));
    const [port] = await freePorts(1);
    const p = await startProxy({
      acceptProxyProtocol: true,
      proxyIPs: ['10.9.9.9'],
      routes: [
        {
          name: 'untrusted',
          match: { ports: port! },
          action: { type: 'forward', target: { host: HOST, port: backend.port } },
        },
      ],
    });
    const s = await connect(port!);
    const hdr = encodeProxyV1({ address: '203.0.113.7', port: 1 }, { address: '198.51.100.1', port: 2 });
    s.write(hdr);
    expect((await readBytes(s, hdr.length)).equals(hdr)).toBe(true);
    expect([...p.proxy.connectionManager.getConnections().values()][0]?.remoteIP).toBe('127.0.0.1');
    s.destroy();
    await p.stop();
    await backend.close();
  });

  it('a malformed header from a trusted peer: proxy_protocol_invalid', async () => {
    const backend = await customServer((s) => s.pipe(s));
    const [port] = await freePorts(1);
    const p = await startProxy({
      acceptProxyProtocol: true,
      proxyIPs: ['127.0.0.1'],
      routes: [
        {
          name: 'bad',
          match: { ports: port! },
          action: { type: 'forward', target: { host: HOST, port: backend.port } },
        },
      ],
    });
    const s = await connect(port!);
    s.write('PROXY TCP4 not-an-ip 1.2.3.4 1 2\r\n');
    await closed(s);
    const ev = await p.events.next();
    expect(ev.reason).toBe('proxy_protocol_invalid');
    expect(ev.error).toMatch(/^malformed PROXY protocol header: /); // SL_ERR_PROXY_HEADER's message
    await p.stop();
    await backend.close();
  });
});
