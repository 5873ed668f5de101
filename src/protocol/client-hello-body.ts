/**
 * Decodes the body of a ClientHello handshake message (RFC 8446 §4.1.2), the bytes after the
 * 4-byte handshake header, reassembled by client-hello.ts. Throws DecodeError on any malformed
 * field; the caller turns that into an `invalid` result.
 */
import { ByteReader, DecodeError } from './byte-reader.js';
import { ExtensionType, MAX_SERVER_NAME_LENGTH, NameTypeHostName, VersionName, isGrease } from './tls-constants.js';

/** What the body tells us; record-level fields are added by the caller. */
export interface ClientHelloFields {
  serverName: string | null;
  alpn: readonly string[];
  versions: readonly string[];
  hasEch: boolean;
}

const EMPTY: readonly string[] = Object.freeze([]);

export function parseClientHelloBody(body: Buffer): ClientHelloFields {
  const r = new ByteReader(body, 'client_hello');
  const legacyVersion = r.u16('legacy_version');
  r.skip(32, 'random');
  if (r.vector(1, 'legacy_session_id').length > 32) {
    throw new DecodeError('legacy_session_id longer than 32 bytes');
  }
  const suites = r.vector(2, 'cipher_suites');
  if (suites.length === 0 || suites.length % 2 !== 0) {
    throw new DecodeError('cipher_suites length is zero or odd');
  }
  if (r.vector(1, 'legacy_compression_methods').length === 0) {
    throw new DecodeError('legacy_compression_methods is empty');
  }
  const fields: ClientHelloFields = { serverName: null, alpn: EMPTY, versions: EMPTY, hasEch: false };
  let sawSupportedVersions = false;
  if (!r.atEnd) {
    const extensions = r.vector(2, 'extensions');
    if (!r.atEnd) throw new DecodeError('trailing bytes after extensions');
    sawSupportedVersions = parseExtensions(extensions, fields);
  }
  if (!sawSupportedVersions) {
    const name = VersionName.get(legacyVersion);
    fields.versions = name === undefined ? EMPTY : [name];
  }
  return fields;
}

/** Fills `fields` from the extensions block; returns whether supported_versions was present. */
function parseExtensions(block: Buffer, fields: ClientHelloFields): boolean {
  const r = new ByteReader(block, 'extensions');
  const seen = new Set<number>();
  let sawSupportedVersions = false;
  while (!r.atEnd) {
    const type = r.u16('extension type');
    const data = r.vector(2, 'extension data');
    if (seen.has(type)) {
      throw new DecodeError(`duplicate extension 0x${type.toString(16).padStart(4, '0')}`);
    }
    seen.add(type);
    if (isGrease(type)) continue;
    switch (type) {
      case ExtensionType.ServerName:
        fields.serverName = parseServerName(data);
        break;
      case ExtensionType.Alpn:
        fields.alpn = parseAlpn(data);
        break;
      case ExtensionType.SupportedVersions:
        fields.versions = parseSupportedVersions(data);
        sawSupportedVersions = true;
        break;
      case ExtensionType.EncryptedClientHello:
        fields.hasEch = true;
        break;
      default:
        break;
    }
  }
  return sawSupportedVersions;
}

/** A vector that must fill its enclosing extension exactly. */
function wholeVector(data: Buffer, prefixBytes: 1 | 2, what: string): Buffer {
  const r = new ByteReader(data, what);
  const list = r.vector(prefixBytes, what);
  if (!r.atEnd) throw new DecodeError(`trailing bytes after ${what}`);
  return list;
}

/** server_name (RFC 6066 §3): first host_name, lowercased, one trailing dot removed. */
function parseServerName(data: Buffer): string | null {
  // An empty extension is what a server sends back; tolerate it from a client as "no name".
  if (data.length === 0) return null;
  const r = new ByteReader(wholeVector(data, 2, 'server_name_list'), 'server_name_list');
  let host: string | null = null;
  while (!r.atEnd) {
    const nameType = r.u8('name_type');
    const name = r.vector(2, 'server name');
    if (nameType !== NameTypeHostName) continue;
    if (host !== null) throw new DecodeError('more than one host_name in server_name');
    host = decodeHostName(name);
  }
  return host;
}

function decodeHostName(name: Buffer): string {
  if (name.length === 0 || name.length > MAX_SERVER_NAME_LENGTH) {
    throw new DecodeError(`host_name length ${name.length} out of range`);
  }
  for (const byte of name) {
    if (!isHostNameByte(byte)) {
      throw new DecodeError(`host_name contains byte 0x${byte.toString(16).padStart(2, '0')}`);
    }
  }
  let host = name.toString('latin1').toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.endsWith('.')) throw new DecodeError('host_name is empty or ends with ".."');
  return host;
}

/** Letters, digits, '-', '.', '_' only: the name drives routing and appears in logs. */
function isHostNameByte(b: number): boolean {
  return (
    (b >= 0x61 && b <= 0x7a) || // a-z
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x30 && b <= 0x39) || // 0-9
    b === 0x2d || // -
    b === 0x2e || // .
    b === 0x5f // _
  );
}

/** application_layer_protocol_negotiation (RFC 7301 §3.1). */
function parseAlpn(data: Buffer): readonly string[] {
  const r = new ByteReader(wholeVector(data, 2, 'protocol_name_list'), 'protocol_name_list');
  if (r.atEnd) throw new DecodeError('protocol_name_list is empty');
  const names: string[] = [];
  while (!r.atEnd) {
    const name = r.vector(1, 'protocol name');
    if (name.length === 0) throw new DecodeError('empty ALPN protocol name');
    names.push(name.toString('latin1'));
  }
  return names;
}

/** supported_versions in a ClientHello (RFC 8446 §4.2.1); GREASE and unknown values dropped. */
function parseSupportedVersions(data: Buffer): readonly string[] {
  const list = wholeVector(data, 1, 'supported_versions');
  if (list.length < 2 || list.length % 2 !== 0) {
    throw new DecodeError('supported_versions length is zero or odd');
  }
  const names: string[] = [];
  for (let i = 0; i + 1 < list.length; i += 2) {
    const v = list.readUInt16BE(i);
    if (isGrease(v)) continue;
    const name = VersionName.get(v);
    if (name !== undefined) names.push(name);
  }
  return names;
}
