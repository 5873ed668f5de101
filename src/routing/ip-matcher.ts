/**
 * Client IP matching for `match.clientIp` and the security allow/block lists: exact addresses,
 * CIDR blocks (IPv4 and IPv6) and `*` glob patterns. IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is
 * matched as the IPv4 address it carries, on both the rule and the address side.
 */
import net from 'node:net';
import { globRegExp } from './glob.js';

const MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** `::ffff:1.2.3.4` → `1.2.3.4`; other addresses unchanged (lowercased for IPv6). */
export function normalizeIp(ip: string): string {
  const m = MAPPED.exec(ip);
  if (m?.[1] !== undefined) return m[1];
  return ip.includes(':') ? ip.toLowerCase() : ip;
}

export class IpMatcher {
  readonly #list = new net.BlockList();
  readonly #globs: RegExp[] = [];
  readonly #any: boolean;
  readonly size: number;

  constructor(patterns: readonly string[]) {
    let any = false;
    for (const raw of patterns) {
      const p = raw.trim();
      if (p === '*' || p === '0.0.0.0/0' || p === '::/0') {
        any = true;
        continue;
      }
      if (p.includes('*')) {
        this.#globs.push(globRegExp(p, '[0-9a-fA-F:.]', 'i'));
        continue;
      }
      const slash = p.indexOf('/');
      const addr = normalizeIp(slash === -1 ? p : p.slice(0, slash));
      const type = net.isIPv4(addr) ? 'ipv4' : 'ipv6';
      if (slash === -1) {
        this.#list.addAddress(addr, type);
      } else {
        let prefix = Number(p.slice(slash + 1));
        // A mapped-IPv6 CIDR (::ffff:10.0.0.0/104) becomes its IPv4 block.
        if (type === 'ipv4' && p.slice(0, slash).includes(':')) prefix -= 96;
        this.#list.addSubnet(addr, prefix, type);
      }
    }
    this.#any = any;
    this.size = patterns.length;
  }

  /** `ip` should already be normalised with `normalizeIp`. */
  matches(ip: string): boolean {
    if (this.#any) return true;
    if (this.#list.check(ip, net.isIPv4(ip) ? 'ipv4' : 'ipv6')) return true;
    for (const g of this.#globs) if (g.test(ip)) return true;
    return false;
  }
}
