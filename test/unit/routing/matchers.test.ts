import { describe, expect, it } from 'vitest';
import { IpMatcher, normalizeIp } from '../../../src/routing/ip-matcher.js';
import { DomainMatcher, normalizeHost } from '../../../src/routing/domain-matcher.js';
import { RouteTable, NEED_HELLO } from '../../../src/routing/route-table.js';
import { validateRoutes } from '../../../src/config/validate.js';

describe('IpMatcher', () => {
  it('exact, CIDR v4/v6, globs, and IPv4-mapped IPv6 on both sides', () => {
    const m = new IpMatcher(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '172.16.*', '::ffff:100.64.0.0/106']);
    for (const ip of ['10.1.2.3', '192.168.1.7', '2001:db8::5', '172.16.9.9', '100.64.1.1'])
      expect(m.matches(normalizeIp(ip))).toBe(true);
    expect(m.matches(normalizeIp('::ffff:10.9.9.9'))).toBe(true);
    for (const ip of ['11.0.0.1', '192.168.1.8', '2001:db9::1', '172.17.0.1', '100.128.0.1'])
      expect(m.matches(normalizeIp(ip))).toBe(false);
    expect(new IpMatcher(['*']).matches('8.8.8.8')).toBe(true);
    expect(new IpMatcher(['::1']).matches(normalizeIp('::1'))).toBe(true);
  });
});

describe('DomainMatcher', () => {
  it('exact, wildcards, case and trailing dot; no name never matches', () => {
    const m = new DomainMatcher(['Example.COM.', '*.api.test', 'cdn.*']);
    expect(m.matches(normalizeHost('example.com'))).toBe(true);
    expect(m.matches(normalizeHost('EXAMPLE.com.'))).toBe(true);
    expect(m.matches(normalizeHost('a.api.test'))).toBe(true);
    expect(m.matches(normalizeHost('a.b.api.test'))).toBe(true);
    expect(m.matches(normalizeHost('api.test'))).toBe(false);
    expect(m.matches(normalizeHost('cdn.anything.net'))).toBe(true);
    expect(m.matches(null)).toBe(false);
    expect(new DomainMatcher(['*']).matches(null)).toBe(false);
  });
});

describe('RouteTable', () => {
  const t = (port: number) => ({ type: 'forward' as const, target: { host: 'h', port } });
  it('orders by priority then config order, routes at accept only when nothing ahead needs the hello', () => {
    const table = new RouteTable(
      validateRoutes([
        { name: 'sni', match: { ports: [443, { from: 8000, to: 8002 }], domains: 'a.test' }, action: t(1) },
        { name: 'plain', match: { ports: 8001 }, action: t(2) },
        { name: 'first', priority: 5, match: { ports: 8002 }, action: t(3) },
        { name: 'off', enabled: false, match: { ports: 9999 }, action: t(4) },
        { name: 'v13', match: { ports: 443, tlsVersion: ['TLSv1.3'] }, action: t(5) },
      ]),
      () => null,
    );
    expect(table.ports).toEqual([443, 8000, 8001, 8002]);
    expect(table.matchAtAccept(443, '1.2.3.4')).toBe(NEED_HELLO);
    expect(table.matchAtAccept(8001, '1.2.3.4')).toBe(NEED_HELLO); // 'sni' comes first
    expect((table.matchAtAccept(8002, '1.2.3.4') as { name: string }).name).toBe('first');
    expect(table.match(443, '1.2.3.4', { serverName: 'a.test', versions: ['TLSv1.2'] })?.name).toBe('sni');
    expect(table.match(443, '1.2.3.4', { serverName: 'b.test', versions: ['TLSv1.3'] })?.name).toBe('v13');
    expect(table.match(443, '1.2.3.4', { serverName: 'b.test', versions: ['TLSv1.2'] })).toBeNull();
    expect(table.match(8001, '1.2.3.4', null)?.name).toBe('plain');
    expect(table.matchAtAccept(9999, '1.2.3.4')).toBeNull();
  });
});
