import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  encodeProxyV1,
  encodeProxyV2,
  parseProxyHeader,
  type ProxyHeader,
  type ProxyParseResult,
} from '../../../src/protocol/proxy-protocol.js';

const SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const PAYLOAD = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');

function header(r: ProxyParseResult): ProxyHeader {
  if (r.status !== 'done') throw new Error(`expected done, got ${JSON.stringify(r)}`);
  return r.header;
}
function invalid(buf: Buffer | string): string {
  const r = parseProxyHeader(typeof buf === 'string' ? Buffer.from(buf, 'latin1') : buf);
  if (r.status !== 'invalid') throw new Error(`expected invalid, got ${JSON.stringify(r)}`);
  return r.detail;
}
function v2(verCmd: number, fam: number, body: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length);
  return Buffer.concat([SIG, Buffer.from([verCmd, fam]), len, body]);
}
function tlv(type: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, value.length >> 8, value.length & 0xff]), value]);
}
const ipv4Block = Buffer.from([10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0x01, 0xbb]); // 10.0.0.1:12345 -> 10.0.0.2:443

/** Every proper prefix is need-more, the whole (plus payload) is done with length = header. */
function expectIncremental(head: Buffer): ProxyHeader {
  for (let n = 0; n < head.length; n++) {
    expect(parseProxyHeader(head.subarray(0, n)).status, `prefix ${n}`).toBe('need-more');
  }
  const h = header(parseProxyHeader(Buffer.concat([head, PAYLOAD])));
  expect(h.length).toBe(head.length);
  return h;
}

describe('PROXY v1', () => {
  it('parses the spec example', () => {
    const line = 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n';
    expect(header(parseProxyHeader(Buffer.from(line + 'GET / HTTP/1.1\r\n')))).toEqual({
      version: 1,
      command: 'PROXY',
      family: 'TCP4',
      sourceAddress: '192.168.0.1',
      sourcePort: 56324,
      destinationAddress: '192.168.0.11',
      destinationPort: 443,
      length: line.length,
      uniqueId: null,
    });
  });

  it('round-trips IPv4 and IPv6 (canonical form)', () => {
    const a = encodeProxyV1({ address: '1.2.3.4', port: 1000 }, { address: '5.6.7.8', port: 443 });
    expect(a.toString()).toBe('PROXY TCP4 1.2.3.4 5.6.7.8 1000 443\r\n');
    expect(expectIncremental(a)).toMatchObject({ family: 'TCP4', sourceAddress: '1.2.3.4', destinationPort: 443 });
    const b = encodeProxyV1({ address: '2001:DB8:0:0::1', port: 0 }, { address: 'fe80::1%eth0', port: 65535 });
    expect(b.toString()).toBe('PROXY TCP6 2001:db8::1 fe80::1 0 65535\r\n');
    expect(expectIncremental(b)).toMatchObject({
      command: 'PROXY',
      family: 'TCP6',
      sourceAddress: '2001:db8::1',
      sourcePort: 0,
      destinationAddress: 'fe80::1',
      destinationPort: 65535,
    });
  });

  it('writes IPv4-mapped as TCP4, mixed families as TCP6, and reports mapped addresses as IPv4', () => {
    const mapped = encodeProxyV1({ address: '::ffff:10.1.2.3', port: 1 }, { address: '10.0.0.1', port: 2 });
    expect(mapped.toString()).toBe('PROXY TCP4 10.1.2.3 10.0.0.1 1 2\r\n');
    const mixed = encodeProxyV1({ address: '10.1.2.3', port: 1 }, { address: '::1', port: 2 });
    expect(mixed.toString()).toBe('PROXY TCP6 ::ffff:a01:203 ::1 1 2\r\n');
    expect(header(parseProxyHeader(mixed))).toMatchObject({
      family: 'TCP6',
      sourceAddress: '10.1.2.3',
      destinationAddress: '::1',
    });
    const dotted = Buffer.from('PROXY TCP6 ::ffff:1.2.3.4 ::1 1 2\r\n');
    expect(header(parseProxyHeader(dotted)).sourceAddress).toBe('1.2.3.4');
  });

  it('maps UNKNOWN to LOCAL semantics and ignores the rest of the line', () => {
    const short = Buffer.from('PROXY UNKNOWN\r\n');
    expect(expectIncremental(short)).toEqual({
      version: 1,
      command: 'LOCAL',
      family: 'UNKNOWN',
      sourceAddress: null,
      sourcePort: null,
      destinationAddress: null,
      destinationPort: null,
      length: 15,
      uniqueId: null,
    });
    const f = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
    const longest = Buffer.from(`PROXY UNKNOWN ${f} ${f} 65535 65535\r\n`);
    expect(longest.length).toBe(107);
    expect(expectIncremental(longest).command).toBe('LOCAL');
  });

  it('encodes PROXY UNKNOWN when an endpoint cannot be written', () => {
    expect(encodeProxyV1({ address: 'not-an-ip', port: 1 }, { address: '1.2.3.4', port: 2 }).toString()).toBe(
      'PROXY UNKNOWN\r\n',
    );
    expect(encodeProxyV1({ address: '1.2.3.4', port: 70000 }, { address: '1.2.3.4', port: 2 }).toString()).toBe(
      'PROXY UNKNOWN\r\n',
    );
    const gone = { address: undefined as unknown as string, port: 1 };
    expect(encodeProxyV1(gone, { address: '1.2.3.4', port: 2 }).toString()).toBe('PROXY UNKNOWN\r\n');
  });

  it('rejects bad addresses, ports and field counts', () => {
    expect(invalid('PROXY TCP4 256.1.1.1 1.1.1.1 1 2\r\n')).toMatch(/IPv4/);
    expect(invalid('PROXY TCP4 01.1.1.1 1.1.1.1 1 2\r\n')).toMatch(/IPv4/);
    expect(invalid('PROXY TCP4 ::1 1.1.1.1 1 2\r\n')).toMatch(/IPv4/);
    expect(invalid('PROXY TCP6 1.1.1.1 ::1 1 2\r\n')).toMatch(/IPv6/);
    expect(invalid('PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n')).toMatch(/IPv6/);
    expect(invalid('PROXY TCP4 1.1.1.1 1.1.1.1 65536 2\r\n')).toMatch(/port/);
    expect(invalid('PROXY TCP4 1.1.1.1 1.1.1.1 080 2\r\n')).toMatch(/port/);
    expect(invalid('PROXY TCP4 1.1.1.1 1.1.1.1 -1 2\r\n')).toMatch(/port/);
    expect(invalid('PROXY TCP4 1.1.1.1  1.1.1.1 1 2\r\n')).toMatch(/6 space-separated/);
    expect(invalid('PROXY TCP4 1.1.1.1 1.1.1.1 1\r\n')).toMatch(/6 space-separated/);
    expect(invalid('PROXY TCP4 1.1.1.1 1.1.1.1 1 2 \r\n')).toMatch(/6 space-separated/);
    expect(invalid('PROXY UNKNOWNX\r\n')).toMatch(/protocol/);
  });

  it('rejects a bad protocol as soon as it cannot match', () => {
    expect(invalid('PROXY TCP5')).toMatch(/protocol/);
    expect(invalid('PROXY X')).toMatch(/protocol/);
    expect(parseProxyHeader(Buffer.from('PROXY TCP')).status).toBe('need-more');
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOW')).status).toBe('need-more');
  });

  it('rejects a line without CRLF in 107 bytes, a lone CR or LF, control bytes', () => {
    const noCrlf = Buffer.from(`PROXY UNKNOWN ${'a'.repeat(92)}`);
    expect(noCrlf.length).toBe(106);
    expect(parseProxyHeader(noCrlf).status).toBe('need-more');
    expect(invalid(Buffer.concat([noCrlf, Buffer.from('a')]))).toMatch(/no CRLF within 107/);
    expect(invalid(Buffer.concat([noCrlf, Buffer.from('\r\n')]))).toMatch(/no CRLF within 107/);
    expect(invalid(Buffer.concat([noCrlf, Buffer.from('\r')]))).toMatch(/no CRLF within 107/);
    expect(invalid('PROXY TCP4 1.1.1.1 1.1.1.1 1 2\n')).toMatch(/LF without CR/);
    expect(invalid('PROXY TCP4 1.1.1.1 1.1.1.1 1 2\rx')).toMatch(/CR not followed by LF/);
    expect(invalid('PROXY TCP4 1.1.1.1\t1.1.1.1 1 2\r\n')).toMatch(/byte 0x09/);
  });
});

describe('PROXY v2', () => {
  it('round-trips IPv4 and IPv6', () => {
    const a = encodeProxyV2({ address: '10.0.0.1', port: 12345 }, { address: '10.0.0.2', port: 443 });
    expect(a.equals(v2(0x21, 0x11, ipv4Block))).toBe(true);
    expect(expectIncremental(a)).toEqual({
      version: 2,
      command: 'PROXY',
      family: 'TCP4',
      sourceAddress: '10.0.0.1',
      sourcePort: 12345,
      destinationAddress: '10.0.0.2',
      destinationPort: 443,
      length: 28,
      uniqueId: null,
    });
    const b = encodeProxyV2({ address: '2001:db8::5', port: 1 }, { address: '::1', port: 2 });
    expect(b.length).toBe(16 + 36);
    expect(expectIncremental(b)).toMatchObject({
      family: 'TCP6',
      sourceAddress: '2001:db8::5',
      destinationAddress: '::1',
    });
  });

  it('reports IPv4-mapped TCP6 addresses in IPv4 form; encodes mapped pairs as TCP4', () => {
    const mixed = encodeProxyV2({ address: '::ffff:192.0.2.7', port: 1 }, { address: '2001:db8::1', port: 2 });
    expect(mixed[13]).toBe(0x21);
    expect(header(parseProxyHeader(mixed))).toMatchObject({
      family: 'TCP6',
      sourceAddress: '192.0.2.7',
      destinationAddress: '2001:db8::1',
    });
    const mapped = encodeProxyV2({ address: '::ffff:192.0.2.7', port: 1 }, { address: '192.0.2.8', port: 2 });
    expect(mapped[13]).toBe(0x11);
  });

  it('LOCAL: encodes no address; parses to null addresses even when an address block is present', () => {
    const local = encodeProxyV2({ address: '1.2.3.4', port: 1 }, { address: '5.6.7.8', port: 2 }, 'LOCAL');
    expect(local.equals(v2(0x20, 0x00, Buffer.alloc(0)))).toBe(true);
    expect(expectIncremental(local)).toMatchObject({
      version: 2,
      command: 'LOCAL',
      family: 'UNKNOWN',
      sourceAddress: null,
      length: 16,
    });
    expect(header(parseProxyHeader(v2(0x20, 0x11, ipv4Block)))).toMatchObject({
      command: 'LOCAL',
      sourceAddress: null,
      length: 28,
    });
  });

  it('falls back to LOCAL semantics for AF_UNSPEC, UDP and UNIX', () => {
    for (const [fam, body] of [
      [0x00, Buffer.alloc(0)],
      [0x00, Buffer.alloc(7)],
      [0x12, ipv4Block],
      [0x22, Buffer.alloc(36)],
      [0x31, Buffer.alloc(216)],
    ] as const) {
      expect(header(parseProxyHeader(v2(0x21, fam, body)))).toMatchObject({
        command: 'LOCAL',
        family: 'UNKNOWN',
        length: 16 + body.length,
      });
    }
    const unknown = encodeProxyV2({ address: 'nope', port: 1 }, { address: '1.2.3.4', port: 2 });
    expect(unknown.equals(v2(0x21, 0x00, Buffer.alloc(0)))).toBe(true);
  });

  it('skips TLVs bounded by the length field', () => {
    const tlvs = Buffer.concat([
      tlv(0x01, Buffer.from('h2')),
      tlv(0x04, Buffer.alloc(5)),
      tlv(0xea, Buffer.from('vpce-123')),
    ]);
    const head = v2(0x21, 0x11, Buffer.concat([ipv4Block, tlvs]));
    expect(expectIncremental(head)).toMatchObject({
      sourceAddress: '10.0.0.1',
      destinationPort: 443,
      length: 28 + tlvs.length,
    });
  });

  it('rejects bad TLVs', () => {
    expect(invalid(v2(0x21, 0x11, Buffer.concat([ipv4Block, Buffer.from([0x01, 0x00])])))).toMatch(/truncated TLV/);
    expect(invalid(v2(0x21, 0x11, Buffer.concat([ipv4Block, Buffer.from([0x01, 0x00, 0x05, 0x61])])))).toMatch(
      /TLV runs past/,
    );
  });

  it('rejects bad version, command, family and short address blocks', () => {
    expect(invalid(v2(0x11, 0x11, ipv4Block))).toMatch(/version 1/);
    expect(invalid(Buffer.concat([SIG, Buffer.from([0x31])]))).toMatch(/version 3/);
    expect(invalid(Buffer.concat([SIG, Buffer.from([0x22])]))).toMatch(/command 2/);
    expect(invalid(Buffer.concat([SIG, Buffer.from([0x21, 0x41])]))).toMatch(/family/);
    expect(invalid(Buffer.concat([SIG, Buffer.from([0x21, 0x13])]))).toMatch(/family/);
    expect(invalid(v2(0x21, 0x11, ipv4Block.subarray(0, 8)))).toMatch(/address block of 8 bytes, need 12/);
    expect(invalid(v2(0x21, 0x21, Buffer.alloc(20)))).toMatch(/need 36/);
  });

  it('rejects an oversize length as soon as the fixed header is in', () => {
    const head = Buffer.concat([SIG, Buffer.from([0x21, 0x11, 0x10, 0x01])]);
    expect(invalid(head)).toMatch(/length 4097 over 4096/);
    const max = v2(0x21, 0x00, Buffer.alloc(4096));
    expect(header(parseProxyHeader(max)).length).toBe(4112);
  });
});

describe('parseProxyHeader: detection', () => {
  it('is need-more on empty input and on prefixes of either signature', () => {
    expect(parseProxyHeader(Buffer.alloc(0)).status).toBe('need-more');
    for (let n = 1; n <= 6; n++) expect(parseProxyHeader(Buffer.from('PROXY '.slice(0, n))).status).toBe('need-more');
    for (let n = 1; n <= 12; n++) expect(parseProxyHeader(SIG.subarray(0, n)).status).toBe('need-more');
  });

  it('is absent as soon as a byte differs from both', () => {
    expect(parseProxyHeader(Buffer.from('G')).status).toBe('absent');
    expect(parseProxyHeader(Buffer.from([0x16])).status).toBe('absent');
    expect(parseProxyHeader(Buffer.from('PROXZ')).status).toBe('absent');
    expect(parseProxyHeader(Buffer.from('PROXY\r\n')).status).toBe('absent');
    expect(parseProxyHeader(Buffer.from('\r\nHost')).status).toBe('absent');
    expect(parseProxyHeader(Buffer.concat([SIG.subarray(0, 11), Buffer.from('X')])).status).toBe('absent');
  });
});

describe('PROXY properties', () => {
  const ipv4 = fc.ipV4();
  const ipv6 = fc.ipV6();
  const port = fc.integer({ min: 0, max: 65535 });
  const endpoint = fc.record({ address: fc.oneof(ipv4, ipv6), port });

  it('v1 and v2 round-trip any endpoints; every prefix is need-more', () => {
    fc.assert(
      fc.property(endpoint, endpoint, fc.boolean(), (src, dst, useV2) => {
        const head = useV2 ? encodeProxyV2(src, dst) : encodeProxyV1(src, dst);
        expect(head.length).toBeLessThanOrEqual(useV2 ? 52 : 107);
        const h = expectIncremental(head);
        expect(h.command).toBe('PROXY');
        expect(h.sourcePort).toBe(src.port);
        expect(h.destinationPort).toBe(dst.port);
        // Re-encoding what was parsed gives the same bytes (addresses are canonical).
        const again = { address: h.sourceAddress!, port: h.sourcePort! };
        const againDst = { address: h.destinationAddress!, port: h.destinationPort! };
        expect((useV2 ? encodeProxyV2(again, againDst) : encodeProxyV1(again, againDst)).equals(head)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes, with or without a signature in front, never throw', () => {
    const prefix = fc.constantFrom(
      Buffer.alloc(0),
      Buffer.from('PROXY '),
      SIG,
      Buffer.concat([SIG, Buffer.from([0x21])]),
    );
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 300 }), (pre, bytes) => {
        const r = parseProxyHeader(Buffer.concat([pre, bytes]));
        expect(['need-more', 'done', 'invalid', 'absent']).toContain(r.status);
      }),
      { numRuns: 2000 },
    );
  });
});
