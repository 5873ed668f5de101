/**
 * PROXY protocol v1 (human-readable line): "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n".
 * The caller has matched the "PROXY " prefix; this finds the CRLF within 107 bytes and decodes.
 */
import { isIPv4 } from 'node:net';
import { formatAddress16, formatIPv4, formatIPv6, parseIPv6 } from './ip-address.js';
import {
  NEED_MORE,
  V1_MAX_LENGTH,
  V1_PREFIX,
  doneHeader,
  invalidHeader,
  localHeader,
  toWirePair,
  type ProxyEndpoint,
  type ProxyParseResult,
} from './proxy-header.js';

const CR = 0x0d;
const LF = 0x0a;
const PROTOCOLS = ['TCP4 ', 'TCP6 ', 'UNKNOWN'] as const;
const PORT_RE = /^(?:0|[1-9][0-9]{0,4})$/;

/** `buf` starts with "PROXY ". */
export function parseProxyV1(buf: Buffer): ProxyParseResult {
  const limit = Math.min(buf.length, V1_MAX_LENGTH);
  const early = checkProtocolPrefix(buf);
  if (early !== null) return early;
  for (let i = V1_PREFIX.length; i < limit; i++) {
    const c = buf[i] ?? 0;
    if (c === CR) {
      if (i + 2 > V1_MAX_LENGTH) break;
      if (i + 1 >= buf.length) return NEED_MORE;
      if (buf[i + 1] !== LF) return invalidHeader('v1: CR not followed by LF');
      return decodeLine(buf.toString('latin1', 0, i), i + 2);
    }
    if (c === LF) return invalidHeader('v1: LF without CR');
    if (c < 0x20 || c > 0x7e) return invalidHeader(`v1: byte 0x${c.toString(16).padStart(2, '0')} in header`);
  }
  return buf.length >= V1_MAX_LENGTH ? invalidHeader('v1: no CRLF within 107 bytes') : NEED_MORE;
}

/** Rejects as soon as the bytes after "PROXY " cannot start TCP4, TCP6 or UNKNOWN. */
function checkProtocolPrefix(buf: Buffer): ProxyParseResult | null {
  const seen = buf.toString('latin1', V1_PREFIX.length, V1_PREFIX.length + 7);
  const possible = PROTOCOLS.some((p) => p.startsWith(seen) || seen.startsWith(p));
  return possible ? null : invalidHeader('v1: protocol is not TCP4, TCP6 or UNKNOWN');
}

function decodeLine(line: string, length: number): ProxyParseResult {
  const parts = line.split(' ');
  const protocol = parts[1];
  if (protocol === 'UNKNOWN') return doneHeader(localHeader(1, length)); // rest of line ignored
  if (protocol !== 'TCP4' && protocol !== 'TCP6') {
    return invalidHeader('v1: protocol is not TCP4, TCP6 or UNKNOWN');
  }
  if (parts.length !== 6) return invalidHeader('v1: expected 6 space-separated fields');
  const [, , src = '', dst = '', sport = '', dport = ''] = parts;
  const source = decodeAddress(protocol, src);
  const destination = decodeAddress(protocol, dst);
  if (source === null || destination === null) {
    return invalidHeader(`v1: address is not a valid ${protocol === 'TCP4' ? 'IPv4' : 'IPv6'} address`);
  }
  const sourcePort = decodePort(sport);
  const destinationPort = decodePort(dport);
  if (sourcePort === null || destinationPort === null) return invalidHeader('v1: port is not 0-65535');
  return doneHeader({
    version: 1,
    command: 'PROXY',
    family: protocol,
    sourceAddress: source,
    sourcePort,
    destinationAddress: destination,
    destinationPort,
    length,
    uniqueId: null, // v1 carries no TLVs
  });
}

function decodeAddress(protocol: 'TCP4' | 'TCP6', text: string): string | null {
  if (protocol === 'TCP4') return isIPv4(text) ? text : null;
  const bytes = parseIPv6(text);
  return bytes === null ? null : formatAddress16(bytes);
}

/** Decimal 0-65535 without leading zeros (the spec forbids them). */
function decodePort(text: string): number | null {
  if (!PORT_RE.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

/**
 * "PROXY TCP4|TCP6 src dst sport dport\r\n"; "PROXY UNKNOWN\r\n" when an address is not an IP or
 * a port is out of range (what the spec tells a sender that cannot fill the line to send).
 */
export function encodeProxyV1(src: ProxyEndpoint, dst: ProxyEndpoint): Buffer {
  const pair = toWirePair(src, dst);
  if (pair === null) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  const fmt = (b: Buffer): string => (pair.family === 4 ? formatIPv4(b) : formatIPv6(b));
  const family = pair.family === 4 ? 'TCP4' : 'TCP6';
  const line = `PROXY ${family} ${fmt(pair.source)} ${fmt(pair.destination)} ${pair.sourcePort} ${pair.destinationPort}\r\n`;
  return Buffer.from(line, 'latin1');
}
