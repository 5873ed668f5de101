/**
 * IP address text <-> bytes for the PROXY protocol. Validation is node:net's isIPv4 / isIPv6
 * (dotted quads without leading zeros; IPv6 with optional embedded IPv4 tail); zone ids are not
 * addresses on the wire and are rejected by the parsers here.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** 4 bytes of a dotted-quad IPv4 address, or null. */
export function parseIPv4(text: string): Buffer | null {
  if (!isIPv4(text)) return null;
  const out = Buffer.alloc(4);
  const parts = text.split('.');
  for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
  return out;
}

/** 16 bytes of an IPv6 address (embedded IPv4 tail allowed; zone id not), or null. */
export function parseIPv6(text: string): Buffer | null {
  if (!isIPv6(text) || text.includes('%')) return null;
  let hex = text;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // Rewrite the dotted tail as two hex groups so one loop handles both forms.
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === null) return null;
    hex = `${text.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const gap = hex.indexOf('::');
  const headGroups = splitGroups(gap < 0 ? hex : hex.slice(0, gap));
  const tailGroups = gap < 0 ? [] : splitGroups(hex.slice(gap + 2));
  const total = headGroups.length + tailGroups.length;
  if (gap < 0 ? total !== 8 : total > 7) return null;
  const out = Buffer.alloc(16);
  headGroups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  const tailStart = 8 - tailGroups.length;
  tailGroups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), (tailStart + i) * 2));
  return out;
}

function splitGroups(part: string): string[] {
  return part === '' ? [] : part.split(':');
}

/** True for ::ffff:a.b.c.d. */
export function isIPv4Mapped(bytes: Buffer): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

export function formatIPv4(bytes: Buffer): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** RFC 5952 text of 16 bytes: lowercase hex groups, longest zero run (>= 2 groups) as '::'. */
export function formatIPv6(bytes: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((n) => n.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** Text form of 16 address bytes as a peer should see it: IPv4-mapped addresses as IPv4. */
export function formatAddress16(bytes: Buffer): string {
  return isIPv4Mapped(bytes) ? formatIPv4(bytes.subarray(12)) : formatIPv6(bytes);
}

/** Wire form of a socket address: IPv4 (mapped IPv6 included) as 4 bytes, other IPv6 as 16. */
export type WireAddress =
  { readonly family: 4; readonly bytes: Buffer } | { readonly family: 6; readonly bytes: Buffer };

/** Address text as net.Socket reports it (zone id dropped) to its wire form; null if not an IP. */
export function toWireAddress(text: string): WireAddress | null {
  if (typeof text !== 'string') return null; // net.Socket#remoteAddress is undefined once closed
  const v4 = parseIPv4(text);
  if (v4 !== null) return { family: 4, bytes: v4 };
  const zone = text.indexOf('%');
  const v6 = parseIPv6(zone < 0 ? text : text.slice(0, zone));
  if (v6 === null) return null;
  return isIPv4Mapped(v6) ? { family: 4, bytes: v6.subarray(12) } : { family: 6, bytes: v6 };
}

/** 16-byte form of a wire address (IPv4 as ::ffff:a.b.c.d). */
export function toIPv6Bytes(addr: WireAddress): Buffer {
  if (addr.family === 6) return addr.bytes;
  const out = Buffer.alloc(16);
  out[10] = 0xff;
  out[11] = 0xff;
  addr.bytes.copy(out, 12);
  return out;
}
