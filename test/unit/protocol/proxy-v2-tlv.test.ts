import { describe, it, expect } from 'vitest';
import {
  encodeProxyV1,
  encodeProxyV2,
  parseProxyHeader,
  type ProxyHeader,
  type ProxyParseResult,
} from '../../../src/protocol/proxy-protocol.js';
import { uniqueIdText } from '../../../src/protocol/proxy-v2-tlv.js';

const SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const ipv4Block = Buffer.from([10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0x01, 0xbb]);
const src = { address: '10.0.0.1', port: 12345 };
const dst = { address: '10.0.0.2', port: 443 };

function v2(verCmd: number, fam: number, body: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length);
  return Buffer.concat([SIG, Buffer.from([verCmd, fam]), len, body]);
}
function tlv(type: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, value.length >> 8, value.length & 0xff]), value]);
}
function header(r: ProxyParseResult): ProxyHeader {
  if (r.status !== 'done') throw new Error(`expected done, got ${JSON.stringify(r)}`);
  return r.header;
}
/** Fed one byte at a time, as a slow or hostile peer would: need-more until the last byte. */
function parseSplit(head: Buffer): ProxyHeader {
  for (let n = 1; n < head.length; n++)
    expect(parseProxyHeader(head.subarray(0, n)).status, `prefix ${n}`).toBe('need-more');
  const h = header(parseProxyHeader(Buffer.concat([head, Buffer.from('GET / HTTP/1.1\r\n')])));
  expect(h.length).toBe(head.length);
  return h;
}

describe('PROXY v2 unique id TLV (0x05)', () => {
  it('round-trips our own id, split at every byte, for PROXY, LOCAL and unknown addresses', () => {
    const id = '0123456789abcdef0123456789abcdef0123';
    const a = encodeProxyV2(src, dst, 'PROXY', id);
    expect(a.length).toBe(16 + 12 + 3 + id.length);
    expect(a.subarray(28, 31)).toEqual(Buffer.from([0x05, 0x00, id.length]));
    expect(parseSplit(a)).toMatchObject({ command: 'PROXY', sourceAddress: '10.0.0.1', uniqueId: id });
    expect(parseSplit(encodeProxyV2(src, dst, 'LOCAL', id))).toMatchObject({ command: 'LOCAL', uniqueId: id });
    const unknown = encodeProxyV2({ address: 'nope', port: 1 }, dst, 'PROXY', id);
    expect(unknown[13]).toBe(0x00);
    expect(parseSplit(unknown)).toMatchObject({ command: 'LOCAL', uniqueId: id });
  });

  it('is absent without an id, and v1 carries none', () => {
    expect(header(parseProxyHeader(encodeProxyV2(src, dst))).uniqueId).toBeNull();
    expect(header(parseProxyHeader(encodeProxyV1(src, dst))).uniqueId).toBeNull();
  });

  it('keeps the first valid id among several TLVs (CRC32C, NOOP, SSL, vendor) in any order', () => {
    const tlvs = Buffer.concat([
      tlv(0x03, Buffer.from([0xde, 0xad, 0xbe, 0xef])), // CRC32C: accepted, not verified
      tlv(0x04, Buffer.alloc(3)),
      tlv(0x20, Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), tlv(0x21, Buffer.from('TLSv1.3'))])),
      tlv(0x05, Buffer.from('haproxy-7F000001:C2E5_7F000001:1F90_65A1B2C3_0001:1A2B')),
      tlv(0x05, Buffer.from('second')),
      tlv(0xea, Buffer.from('vpce-0123')),
    ]);
    expect(parseSplit(v2(0x21, 0x11, Buffer.concat([ipv4Block, tlvs])))).toMatchObject({
      sourceAddress: '10.0.0.1',
      uniqueId: 'haproxy-7F000001:C2E5_7F000001:1F90_65A1B2C3_0001:1A2B',
    });
  });

  it('ignores an empty or oversize id (129 bytes) but accepts the header; 128 bytes is kept', () => {
    const at = (value: Buffer): ProxyHeader =>
      header(parseProxyHeader(v2(0x21, 0x11, Buffer.concat([ipv4Block, tlv(0x05, value)]))));
    expect(at(Buffer.alloc(0))).toMatchObject({ sourceAddress: '10.0.0.1', uniqueId: null });
    expect(at(Buffer.alloc(129, 0x61))).toMatchObject({ sourceAddress: '10.0.0.1', uniqueId: null });
    expect(at(Buffer.alloc(128, 0x61)).uniqueId).toBe('a'.repeat(128));
    // An oversize one first does not hide a valid one after it.
    const two = Buffer.concat([ipv4Block, tlv(0x05, Buffer.alloc(200, 0x61)), tlv(0x05, Buffer.from('ok'))]);
    expect(header(parseProxyHeader(v2(0x21, 0x11, two))).uniqueId).toBe('ok');
    // Our encoder refuses to send what the spec forbids.
    expect(encodeProxyV2(src, dst, 'PROXY', 'x'.repeat(129)).length).toBe(28);
  });

  it('shows binary or control bytes as hex, never raw', () => {
    expect(uniqueIdText(Buffer.from([0x00, 0x01, 0xff]))).toBe('0001ff');
    expect(uniqueIdText(Buffer.from('a b'))).toBe('612062');
    expect(uniqueIdText(Buffer.from('a\nb'))).toBe('610a62');
    expect(uniqueIdText(Buffer.from('req-42'))).toBe('req-42');
  });

  it('refuses a TLV whose length runs past the header, or a truncated TLV header, wherever the id is', () => {
    const bad = (tlvs: Buffer): ProxyParseResult => parseProxyHeader(v2(0x21, 0x11, Buffer.concat([ipv4Block, tlvs])));
    expect(bad(Buffer.concat([tlv(0x05, Buffer.from('ok')), Buffer.from([0x05, 0x00, 0x09, 0x61])]))).toMatchObject({
      status: 'invalid',
      detail: expect.stringMatching(/runs past/),
    });
    expect(bad(Buffer.concat([tlv(0x05, Buffer.from('ok')), Buffer.from([0x05, 0x00])]))).toMatchObject({
      status: 'invalid',
      detail: expect.stringMatching(/truncated TLV/),
    });
    expect(bad(Buffer.from([0x05, 0xff, 0xff]))).toMatchObject({ status: 'invalid' });
  });

  it('AF_UNSPEC: a clean TLV list is read, bytes that are not one are ignored (header accepted)', () => {
    expect(header(parseProxyHeader(v2(0x21, 0x00, tlv(0x05, Buffer.from('lb-1'))))).uniqueId).toBe('lb-1');
    expect(header(parseProxyHeader(v2(0x21, 0x00, Buffer.from([0x05, 0x00, 0x09, 0x61]))))).toMatchObject({
      command: 'LOCAL',
      uniqueId: null,
    });
  });
});
