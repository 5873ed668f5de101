/**
 * PROXY protocol (HAProxy proxy-protocol.txt) result types, wire constants and helpers shared by
 * the v1 and v2 codecs.
 */
import { toIPv6Bytes, toWireAddress } from './ip-address.js';

export interface ProxyHeader {
  version: 1 | 2;
  /**
   * 'PROXY' only when the header carries TCP4/TCP6 addresses, which are then non-null. 'LOCAL'
   * (v2 LOCAL, v1 UNKNOWN, v2 PROXY with AF_UNSPEC / UDP / UNIX) means: use the real socket
   * addresses; the address fields are null.
   */
  command: 'PROXY' | 'LOCAL';
  /** The wire family; IPv4-mapped TCP6 addresses are still 'TCP6' but reported in IPv4 form. */
  family: 'TCP4' | 'TCP6' | 'UNKNOWN';
  sourceAddress: string | null;
  sourcePort: number | null;
  destinationAddress: string | null;
  destinationPort: number | null;
  /** Header bytes consumed; the payload starts at this offset. */
  length: number;
  /**
   * The sending hop's id for this connection (v2 PP2_TYPE_UNIQUE_ID TLV, as text: see
   * proxy-v2-tlv.ts); null when absent, empty, over 128 bytes, and always for v1 (no TLVs).
   */
  uniqueId: string | null;
}

export type ProxyParseResult =
  | { status: 'need-more' }
  | { status: 'done'; header: ProxyHeader }
  | { status: 'invalid'; detail: string }
  | { status: 'absent' };

/** An endpoint as net.Socket reports it (a zone id suffix such as `%eth0` is dropped). */
export interface ProxyEndpoint {
  address: string;
  port: number;
}

/** v1 starts with "PROXY " (the space is part of the prefix). */
export const V1_PREFIX: Buffer = Buffer.from('PROXY ', 'latin1');

/** Longest v1 line the spec allows, CRLF included. */
export const V1_MAX_LENGTH = 107;

/** v2 signature: \r\n\r\n\0\r\nQUIT\n. */
export const V2_SIGNATURE: Buffer = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

/** Signature + ver_cmd + fam + len. */
export const V2_FIXED_LENGTH = 16;

/**
 * Largest v2 `len` accepted: a UNIX address block (216) plus generous TLV room (AWS, Azure and
 * GCP TLVs, SSL sub-TLVs). Bounds what a peer can make us buffer.
 */
export const V2_MAX_PAYLOAD = 4096;

export const NEED_MORE: ProxyParseResult = Object.freeze({ status: 'need-more' });
export const ABSENT: ProxyParseResult = Object.freeze({ status: 'absent' });

export function invalidHeader(detail: string): ProxyParseResult {
  return Object.freeze({ status: 'invalid', detail });
}

export function doneHeader(header: ProxyHeader): ProxyParseResult {
  return Object.freeze({ status: 'done', header: Object.freeze(header) });
}

/** A LOCAL-semantics header: the receiver uses the real socket addresses. */
export function localHeader(version: 1 | 2, length: number, uniqueId: string | null = null): ProxyHeader {
  return {
    version,
    command: 'LOCAL',
    family: 'UNKNOWN',
    sourceAddress: null,
    sourcePort: null,
    destinationAddress: null,
    destinationPort: null,
    length,
    uniqueId,
  };
}

/** Both endpoints in one wire family, ready to encode. */
export interface WirePair {
  family: 4 | 6;
  source: Buffer;
  destination: Buffer;
  sourcePort: number;
  destinationPort: number;
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 65535;
}

/**
 * TCP4 when both addresses are IPv4 (IPv4-mapped included), else TCP6 with any IPv4 side written
 * as ::ffff:a.b.c.d. Null when an address is not an IP or a port is out of range: the encoders
 * then send the spec's "unknown" form rather than throw.
 */
export function toWirePair(src: ProxyEndpoint, dst: ProxyEndpoint): WirePair | null {
  if (!isPort(src.port) || !isPort(dst.port)) return null;
  const s = toWireAddress(src.address);
  const d = toWireAddress(dst.address);
  if (s === null || d === null) return null;
  const v4 = s.family === 4 && d.family === 4;
  return {
    family: v4 ? 4 : 6,
    source: v4 ? s.bytes : toIPv6Bytes(s),
    destination: v4 ? d.bytes : toIPv6Bytes(d),
    sourcePort: src.port,
    destinationPort: dst.port,
  };
}
