/**
 * Syntax check for the address patterns accepted in `ipAllowList`, `ipBlockList`, `proxyIPs` and
 * `match.clientIp`: an exact IPv4/IPv6 address, a CIDR (`10.0.0.0/8`, `::1/128`) or a `*` glob
 * (`192.168.*`, `10.*.*.1`, `2001:db8:*`, `*`). Matching itself lives in routing/ and security/.
 */
import { isIP } from 'node:net';

const IPV4_OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;
const PREFIX = /^(0|[1-9]\d{0,2})$/;

function isCidr(value: string): boolean {
  const slash = value.indexOf('/');
  const address = value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  if (!PREFIX.test(prefix)) return false;
  const family = isIP(address);
  if (family === 0) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

function isGlob(value: string): boolean {
  if (value === '*') return true;
  if (value.includes(':')) {
    const groups = value.split(':');
    if (groups.length > 8) return false;
    return groups.every((g) => g === '*' || g === '' || IPV6_GROUP.test(g));
  }
  const octets = value.split('.');
  if (octets.length > 4) return false;
  return octets.every((o) => o === '*' || IPV4_OCTET.test(o));
}

/** True when `value` is an exact IP, a CIDR or a `*` pattern. */
export function isIpPattern(value: string): boolean {
  if (value.length === 0 || value.length > 64) return false;
  if (value.includes('/')) return isCidr(value);
  if (value.includes('*')) return isGlob(value);
  return isIP(value) !== 0;
}

export const IP_PATTERN_HELP = 'an IP address, a CIDR (10.0.0.0/8, ::1/128) or a * pattern (192.168.*)';
