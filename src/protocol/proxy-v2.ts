/**
 * PROXY protocol v2 (binary): 12-byte signature, ver_cmd, fam, 16-bit length, address block,
 * TLVs. The caller has matched the signature. TLVs are validated for bounds; the unique id TLV
 * (0x05) is read and written (proxy-v2-tlv.ts), the others are skipped.
 */
import { formatAddress16, formatIPv4 } from './ip-address.js';
import {
  NEED_MORE,
  V2_FIXED_LENGTH,
  V2_MAX_PAYLOAD,
  V2_SIGNATURE,
  doneHeader,
  invalidHeader,
  localHeader,
  toWirePair,
  type ProxyEndpoint,
  type ProxyParseResult,
} from './proxy-header.js';
import { scanTlvs, uniqueIdTlv } from './proxy-v2-tlv.js';

const VERSION_2 = 0x2;
const Command = { Local: 0x0, Proxy: 0x1 } as const;

/** fam byte values (family << 4 | transport) the spec lists. */
const Family = {
  Unspec: 0x00,
  Tcp4: 0x11,
  Udp4: 0x12,
  Tcp6: 0x21,
  Udp6: 0x22,
  UnixStream: 0x31,
  UnixDgram: 0x32,
} as const;

/** Address block length per listed fam value; TLVs follow it. */
const ADDRESS_LENGTH: ReadonlyMap<number, number> = new Map([
  [Family.Tcp4, 12],
  [Family.Udp4, 12],
  [Family.Tcp6, 36],
  [Family.Udp6, 36],
  [Family.UnixStream, 216],
  [Family.UnixDgram, 216],
]);

/** `buf` starts with the full 12-byte signature. */
export function parseProxyV2(buf: Buffer): ProxyParseResult {
  const verCmd = buf[12];
  if (verCmd === undefined) return NEED_MORE;
  if (verCmd >> 4 !== VERSION_2) return invalidHeader(`v2: version ${verCmd >> 4}`);
  const command = verCmd & 0x0f;
  if (command !== Command.Local && command !== Command.Proxy) return invalidHeader(`v2: command ${command}`);
  const fam = buf[13];
  if (fam === undefined) return NEED_MORE;
  if (fam >> 4 > 3 || (fam & 0x0f) > 2) return invalidHeader(`v2: family/transport 0x${fam.toString(16)}`);
  if (buf.length < V2_FIXED_LENGTH) return NEED_MORE;
  const payloadLength = buf.readUInt16BE(14);
  if (payloadLength > V2_MAX_PAYLOAD) return invalidHeader(`v2: length ${payloadLength} over ${V2_MAX_PAYLOAD}`);
  const length = V2_FIXED_LENGTH + payloadLength;
  if (buf.length < length) return NEED_MORE;
  const payload = buf.subarray(V2_FIXED_LENGTH, length);

  const addressLength = ADDRESS_LENGTH.get(fam);
  let uniqueId: string | null = null;
  if (addressLength !== undefined && payload.length >= addressLength) {
    const scan = scanTlvs(payload.subarray(addressLength));
    if (scan.error !== null) return invalidHeader(scan.error);
    uniqueId = scan.uniqueId;
  } else if (fam === Family.Unspec) {
    // AF_UNSPEC has no address block, so TLVs (if any) start at once: HAProxy and Sightline send
    // LOCAL / unknown-address headers that way. The spec says to ignore what an UNSPEC header
    // carries, so bytes that are not a clean TLV list are ignored rather than refused.
    const scan = scanTlvs(payload);
    if (scan.error === null) uniqueId = scan.uniqueId;
  }
  // LOCAL: the receiver must ignore the address block. Other families fall back to UNSPEC.
  if (command === Command.Local || (fam !== Family.Tcp4 && fam !== Family.Tcp6)) {
    return doneHeader(localHeader(2, length, uniqueId));
  }
  if (addressLength === undefined || payload.length < addressLength) {
    return invalidHeader(`v2: address block of ${payload.length} bytes, need ${addressLength ?? 0}`);
  }
  const size = fam === Family.Tcp4 ? 4 : 16;
  const fmt = (b: Buffer): string => (size === 4 ? formatIPv4(b) : formatAddress16(b));
  return doneHeader({
    version: 2,
    command: 'PROXY',
    family: fam === Family.Tcp4 ? 'TCP4' : 'TCP6',
    sourceAddress: fmt(payload.subarray(0, size)),
    destinationAddress: fmt(payload.subarray(size, 2 * size)),
    sourcePort: payload.readUInt16BE(2 * size),
    destinationPort: payload.readUInt16BE(2 * size + 2),
    length,
    uniqueId,
  });
}

/**
 * v2 header. LOCAL carries no address (fam UNSPEC, address length 0). PROXY with an address that
 * is not an IP or a port out of range is sent as PROXY over AF_UNSPEC, as the spec advises.
 * `uniqueId` (this connection's id, for the next hop's logs) follows as a PP2_TYPE_UNIQUE_ID TLV.
 */
export function encodeProxyV2(
  src: ProxyEndpoint,
  dst: ProxyEndpoint,
  command: 'PROXY' | 'LOCAL' = 'PROXY',
  uniqueId?: string,
): Buffer {
  const pair = command === 'PROXY' ? toWirePair(src, dst) : null;
  const size = pair === null ? 0 : pair.family === 4 ? 4 : 16;
  const addressLength = pair === null ? 0 : 2 * size + 4;
  const tlv = uniqueId === undefined ? null : uniqueIdTlv(uniqueId);
  const payloadLength = addressLength + (tlv?.length ?? 0);
  const out = Buffer.alloc(V2_FIXED_LENGTH + payloadLength);
  V2_SIGNATURE.copy(out, 0);
  out[12] = (VERSION_2 << 4) | (command === 'PROXY' ? Command.Proxy : Command.Local);
  out[13] = pair === null ? Family.Unspec : pair.family === 4 ? Family.Tcp4 : Family.Tcp6;
  out.writeUInt16BE(payloadLength, 14);
  if (pair !== null) {
    pair.source.copy(out, V2_FIXED_LENGTH);
    pair.destination.copy(out, V2_FIXED_LENGTH + size);
    out.writeUInt16BE(pair.sourcePort, V2_FIXED_LENGTH + 2 * size);
    out.writeUInt16BE(pair.destinationPort, V2_FIXED_LENGTH + 2 * size + 2);
  }
  tlv?.copy(out, V2_FIXED_LENGTH + addressLength);
  return out;
}
