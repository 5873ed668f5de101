/**
 * TLS wire constants used by the ClientHello parser (RFC 8446, RFC 6066, RFC 7301, RFC 8701,
 * draft-ietf-tls-esni). Numbers only; no parsing here.
 */

/** TLS record content types (RFC 8446 §5.1). */
export const RecordType = {
  ChangeCipherSpec: 0x14,
  Alert: 0x15,
  Handshake: 0x16,
  ApplicationData: 0x17,
} as const;

/** Handshake message types (RFC 8446 §4). */
export const HandshakeType = {
  ClientHello: 0x01,
} as const;

/** Extension types the parser reads. */
export const ExtensionType = {
  ServerName: 0x0000,
  Alpn: 0x0010,
  SupportedVersions: 0x002b,
  EncryptedClientHello: 0xfe0d,
} as const;

/** server_name NameType (RFC 6066 §3). */
export const NameTypeHostName = 0x00;

/** TLS record header: type(1) version(2) length(2). */
export const RECORD_HEADER_LENGTH = 5;

/** Handshake header: msg_type(1) length(3). */
export const HANDSHAKE_HEADER_LENGTH = 4;

/**
 * Largest record payload accepted: 2^14 plaintext + 2048 (the TLSCiphertext allowance, which some
 * stacks use loosely). Anything larger, or an empty record, is not a well-formed first flight.
 */
export const MAX_RECORD_PAYLOAD = 16_384 + 2_048;

/** Longest DNS name (RFC 1035), plus an optional trailing dot. */
export const MAX_SERVER_NAME_LENGTH = 254;

/** Protocol version code points to the names Node and OpenSSL report. */
export const VersionName: ReadonlyMap<number, string> = new Map([
  [0x0304, 'TLSv1.3'],
  [0x0303, 'TLSv1.2'],
  [0x0302, 'TLSv1.1'],
  [0x0301, 'TLSv1'],
  [0x0300, 'SSLv3'],
]);

/** GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa. Used for extension types and versions. */
export function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff);
}
