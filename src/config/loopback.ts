/**
 * Which host names and addresses stay on this machine: the admin listener may bind them without
 * a token, and without a token only requests whose Host header names one are answered.
 */
import net from 'node:net';

/** `127.0.0.0/8`, `::1`, `::ffff:127.x.x.x`, `localhost` and `*.localhost` (RFC 6761). */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  if (net.isIPv4(v4)) return v4.startsWith('127.');
  if (!net.isIPv6(h)) return false;
  // Every spelling of ::1 (0:0:0:0:0:0:0:1, 0000::0001, ...) has all groups zero but a last 1.
  const groups = h.split(':').filter((g) => g !== '');
  return (
    groups.length > 0 && groups.slice(0, -1).every((g) => /^0+$/.test(g)) && /^0*1$/.test(groups[groups.length - 1]!)
  );
}

/** The host part of a Host header value (`[::1]:9464` → `::1`, `a.test:80` → `a.test`). */
export function hostOfHeader(value: string): string {
  const v = value.trim();
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    return end < 0 ? v : v.slice(1, end);
  }
  const colon = v.indexOf(':');
  return colon < 0 ? v : v.slice(0, colon);
}
