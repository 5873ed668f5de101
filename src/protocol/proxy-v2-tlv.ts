/**
 * PROXY v2 TLVs (HAProxy proxy-protocol.txt §2.2): bounds checks and the one TLV Sightline reads
 * and writes, PP2_TYPE_UNIQUE_ID (0x05): an opaque id of up to 128 bytes that the sending hop
 * gave the connection, so a line in this hop's log can be joined to the line in the previous
 * hop's (HAProxy sends its `unique-id` there). Every other TLV (ALPN, authority, CRC32C, NOOP,
 * SSL, vendor ones) is bounds-checked and skipped: CRC32C is not verified.
 */

export const PP2_TYPE_UNIQUE_ID = 0x05;
/** The spec's upper bound on a PP2_TYPE_UNIQUE_ID value. */
export const UNIQUE_ID_MAX_BYTES = 128;

const TLV_HEADER_LENGTH = 3;

export type TlvScan = { readonly error: string } | { readonly error: null; readonly uniqueId: string | null };

/**
 * Walk the TLVs after the address block. Each (type, 16-bit length, value) must fit in what is
 * left, or the whole header is refused. The first well-formed unique id is kept; an empty or
 * oversize one is ignored (the header is still accepted: the id is for logs, not for routing).
 */
export function scanTlvs(tlvs: Buffer): TlvScan {
  let pos = 0;
  let uniqueId: string | null = null;
  while (pos < tlvs.length) {
    if (tlvs.length - pos < TLV_HEADER_LENGTH) return { error: 'v2: truncated TLV header' };
    const type = tlvs[pos]!;
    const valueLength = tlvs.readUInt16BE(pos + 1);
    const start = pos + TLV_HEADER_LENGTH;
    pos = start + valueLength;
    if (pos > tlvs.length) return { error: 'v2: TLV runs past the header length' };
    if (type === PP2_TYPE_UNIQUE_ID && uniqueId === null) uniqueId = uniqueIdText(tlvs.subarray(start, pos));
  }
  return { error: null, uniqueId };
}

/**
 * A unique id as text for logs and spans: printable ASCII as is (HAProxy's default `unique-id`
 * format and Sightline's own ids are), anything else as lowercase hex, so no byte a peer sends
 * can reach a log line raw. Null for an empty or oversize value.
 */
export function uniqueIdText(value: Buffer): string | null {
  if (value.length === 0 || value.length > UNIQUE_ID_MAX_BYTES) return null;
  for (const b of value) if (b < 0x21 || b > 0x7e) return value.toString('hex');
  return value.toString('latin1');
}

/** The PP2_TYPE_UNIQUE_ID TLV for `id` (ASCII); empty when the id is empty or over 128 bytes. */
export function uniqueIdTlv(id: string): Buffer {
  const value = Buffer.from(id, 'latin1');
  if (value.length === 0 || value.length > UNIQUE_ID_MAX_BYTES) return Buffer.alloc(0);
  const out = Buffer.allocUnsafe(TLV_HEADER_LENGTH + value.length);
  out[0] = PP2_TYPE_UNIQUE_ID;
  out.writeUInt16BE(value.length, 1);
  value.copy(out, TLV_HEADER_LENGTH);
  return out;
}
