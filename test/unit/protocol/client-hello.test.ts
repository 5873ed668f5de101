import { describe, it, expect } from 'vitest';
import { ClientHelloParser, type HelloResult } from '../../../src/protocol/client-hello.js';
import {
  parseClientHello,
  SAMPLES,
  alpnExt,
  captureNodeHello,
  captureOpensslHello,
  ech,
  hasOpenssl,
  handshake,
  hello,
  helloBody,
  paddingExt,
  records,
  sniExt,
  u16,
  u24,
  u8,
  vec16,
  vec8,
  noExtensions,
  noSni,
  greasy,
  tls12,
  tls13,
  versionsExt,
} from './tls-fixtures.js';

const CAP = 64 * 1024;

function done(result: HelloResult) {
  if (result.status !== 'done') throw new Error(`expected done, got ${JSON.stringify(result)}`);
  return result.hello;
}

function feedBytewise(buf: Buffer, maxBytes = CAP): { result: HelloResult; pushes: number } {
  const p = new ClientHelloParser(maxBytes);
  for (let i = 0; i < buf.length; i++) {
    const r = p.push(buf.subarray(i, i + 1));
    if (r.status !== 'need-more') return { result: r, pushes: i + 1 };
  }
  return { result: { status: 'need-more' }, pushes: buf.length };
}

describe('ClientHelloParser: hand-built hellos', () => {
  it('reads a TLS 1.2-only hello (legacy_version, no supported_versions)', () => {
    const h = done(parseClientHello(tls12));
    expect(h).toEqual({
      serverName: 'example.com',
      alpn: ['http/1.1'],
      versions: ['TLSv1.2'],
      hasEch: false,
      recordVersion: 0x0301,
      length: tls12.length,
    });
  });

  it('reads a TLS 1.3 hello with ALPN h2 + http/1.1', () => {
    const h = done(parseClientHello(tls13));
    expect(h.serverName).toBe('api.example.com');
    expect(h.alpn).toEqual(['h2', 'http/1.1']);
    expect(h.versions).toEqual(['TLSv1.3', 'TLSv1.2']);
  });

  it('tolerates GREASE extension types and drops GREASE versions', () => {
    const h = done(parseClientHello(greasy));
    expect(h.serverName).toBe('grease.test');
    expect(h.versions).toEqual(['TLSv1.3', 'TLSv1.2']);
  });

  it('flags an ECH outer hello and reports the outer (public) SNI', () => {
    const h = done(parseClientHello(ech));
    expect(h.hasEch).toBe(true);
    expect(h.serverName).toBe('public.example');
  });

  it('reports null SNI and empty ALPN when absent', () => {
    const h = done(parseClientHello(noSni));
    expect(h.serverName).toBeNull();
    expect(h.alpn).toEqual([]);
    expect(h.versions).toEqual(['TLSv1.3']);
  });

  it('accepts a hello without an extensions block', () => {
    const h = done(parseClientHello(noExtensions));
    expect(h).toMatchObject({ serverName: null, alpn: [], versions: ['TLSv1'] });
  });

  it('lowercases the SNI and removes one trailing dot', () => {
    const h = done(parseClientHello(hello({ extensions: [sniExt('WWW.Example.COM.')] })));
    expect(h.serverName).toBe('www.example.com');
  });

  it('drops unknown versions and maps SSLv3..TLSv1.3', () => {
    const h = done(
      parseClientHello(hello({ extensions: [versionsExt(0x7f1c, 0x0304, 0x0303, 0x0302, 0x0301, 0x0300)] })),
    );
    expect(h.versions).toEqual(['TLSv1.3', 'TLSv1.2', 'TLSv1.1', 'TLSv1', 'SSLv3']);
  });

  it('reassembles a hello spread over 2 and 3 records, incl. a split handshake header', () => {
    const message = handshake(helloBody({ extensions: [sniExt('multi.test'), alpnExt('h2')] }));
    const single = done(parseClientHello(records(message)));
    for (const sizes of [[100], [2], [1, 1], [2, 40], [4, 50], [message.length - 1]]) {
      const wire = records(message, sizes);
      const h = done(parseClientHello(wire));
      expect(h).toEqual({ ...single, length: wire.length });
      expect(done(feedBytewise(wire).result)).toEqual(h);
    }
  });

  it('reports length up to the end of the hello when more bytes follow', () => {
    const wire = Buffer.concat([tls13, Buffer.from([0x17, 0x03, 0x03, 0x00, 0x01, 0xff])]);
    expect(done(parseClientHello(wire)).length).toBe(tls13.length);
  });

  it('is need-more (never invalid) at every proper prefix of a valid hello', () => {
    for (const [, wire] of SAMPLES) {
      for (let n = 0; n < wire.length; n++) {
        expect(parseClientHello(wire.subarray(0, n)).status, `prefix ${n}`).toBe('need-more');
      }
    }
  });

  it('gives the same answer fed one byte at a time, and keeps every byte', () => {
    for (const [, wire] of SAMPLES) {
      const p = new ClientHelloParser(CAP);
      let r: HelloResult = { status: 'need-more' };
      for (let i = 0; i < wire.length; i++) r = p.push(wire.subarray(i, i + 1));
      expect(r).toEqual(parseClientHello(wire));
      expect(p.bytes).toBe(wire.length);
      expect(p.buffered.equals(wire)).toBe(true);
    }
  });

  it('returns the same terminal result after more pushes and still buffers them', () => {
    const p = new ClientHelloParser(CAP);
    const first = p.push(tls13);
    expect(p.push(Buffer.from('more'))).toBe(first);
    expect(p.buffered.equals(Buffer.concat([tls13, Buffer.from('more')]))).toBe(true);
    expect(p.bytes).toBe(tls13.length + 4);
  });

  it('keeps the first chunk by reference (no copy for a one-segment hello)', () => {
    const p = new ClientHelloParser(CAP);
    p.push(tls13);
    expect(p.buffered.buffer).toBe(tls13.buffer);
    expect(p.buffered.byteOffset).toBe(tls13.byteOffset);
    p.push(Buffer.from([1]));
    expect(p.buffered.byteOffset === tls13.byteOffset && p.buffered.buffer === tls13.buffer).toBe(false);
  });

  it('parses a 16 KiB hello fed one byte at a time in linear time', () => {
    const big = hello({ extensions: [sniExt('big.test'), paddingExt(16_000)] }, [8000]);
    expect(big.length).toBeGreaterThan(16_000);
    const start = performance.now();
    const { result } = feedBytewise(big);
    const elapsed = performance.now() - start;
    expect(done(result).serverName).toBe('big.test');
    expect(elapsed).toBeLessThan(1000);
  });
});

describe('ClientHelloParser: not TLS', () => {
  it('decides after 1 byte when the first byte is not 0x16', () => {
    expect(feedBytewise(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toEqual({ result: { status: 'not-tls' }, pushes: 1 });
    expect(feedBytewise(Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01]))).toEqual({
      result: { status: 'not-tls' },
      pushes: 1,
    });
    expect(parseClientHello(Buffer.from([0x00])).status).toBe('not-tls');
  });

  it('decides once the record version major byte is known (byte 2)', () => {
    expect(feedBytewise(Buffer.from([0x16, 0x02, 0x00, 0x00, 0x10]))).toEqual({
      result: { status: 'not-tls' },
      pushes: 2,
    });
    expect(parseClientHello(Buffer.from([0x16])).status).toBe('need-more');
  });

  it('names a TLS alert sent instead of a hello (a client that gave up), in one piece or bytewise', () => {
    const alert = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]);
    const expected = {
      status: 'invalid',
      detail: 'the client sent a TLS fatal alert (protocol_version) instead of a ClientHello',
    };
    expect(parseClientHello(alert)).toEqual(expected);
    expect(feedBytewise(alert)).toEqual({ result: expected, pushes: 7 });
    expect(parseClientHello(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x63])).status).toBe('invalid');
    expect(parseClientHello(Buffer.from([0x15, 0x47])).status).toBe('not-tls');
  });

  it('never throws on random bytes', () => {
    for (let i = 0; i < 200; i++) {
      const buf = Buffer.from(Array.from({ length: 1 + (i % 64) }, (_, j) => (i * 131 + j * 17) & 0xff));
      expect(['need-more', 'done', 'not-tls', 'invalid', 'too-large']).toContain(parseClientHello(buf).status);
    }
  });
});

describe('ClientHelloParser: invalid', () => {
  const invalid = (buf: Buffer): string => {
    const r = parseClientHello(buf);
    if (r.status !== 'invalid') throw new Error(`expected invalid, got ${JSON.stringify(r)}`);
    return r.detail;
  };
  const rec = (payload: Buffer): Buffer => Buffer.concat([u8(0x16), u16(0x0301), u16(payload.length), payload]);
  const withBody = (body: Buffer): Buffer => rec(handshake(body));
  const head = Buffer.concat([u16(0x0303), Buffer.alloc(32)]); // legacy_version + random

  it('rejects record length 0 and over 2^14 + 2048', () => {
    expect(invalid(Buffer.from([0x16, 3, 1, 0, 0]))).toMatch(/record length 0/);
    expect(invalid(Buffer.from([0x16, 3, 1, 0x48, 0x01]))).toMatch(/record length 18433/);
    expect(parseClientHello(Buffer.from([0x16, 3, 1, 0x48, 0x00])).status).toBe('need-more');
  });

  it('rejects a non-ClientHello handshake type as soon as its byte arrives', () => {
    const serverHello = records(handshake(helloBody(), 2));
    expect(feedBytewise(serverHello).pushes).toBe(6);
    expect(invalid(serverHello)).toMatch(/handshake type 2/);
  });

  it('rejects a non-handshake record inside a multi-record hello', () => {
    const wire = Buffer.from(hello({ extensions: [sniExt('a.test')] }, [10]));
    wire[5 + 10] = 0x17;
    expect(invalid(wire)).toMatch(/record type 23/);
    wire[5 + 10] = 0x16;
    wire[5 + 10 + 1] = 0x02;
    expect(invalid(wire)).toMatch(/record version major 2/);
  });

  it('rejects lengths that overrun their enclosing structure', () => {
    expect(invalid(withBody(Buffer.concat([head, u8(33), Buffer.alloc(33)])))).toMatch(/legacy_session_id/);
    expect(invalid(withBody(Buffer.concat([head, u8(40), Buffer.alloc(10)])))).toMatch(/legacy_session_id runs past/);
    expect(invalid(withBody(Buffer.concat([head, u8(0), u16(100), u16(0x1301)])))).toMatch(/cipher_suites runs past/);
    expect(invalid(withBody(Buffer.concat([head, u8(0), vec16(u16(0x1301)), u8(5), u8(0)])))).toMatch(
      /compression_methods runs past/,
    );
    const base = Buffer.concat([head, u8(0), vec16(u16(0x1301)), vec8(u8(0))]);
    expect(invalid(withBody(Buffer.concat([base, u16(50), u16(0), u16(1)])))).toMatch(/extensions runs past/);
    expect(invalid(withBody(Buffer.concat([base, vec16(Buffer.concat([u16(0), u16(9), u8(0)]))])))).toMatch(
      /extension data runs past/,
    );
    expect(invalid(withBody(Buffer.concat([base, vec16(Buffer.concat([u16(0), u8(0)]))])))).toMatch(
      /extension data length/,
    );
    expect(invalid(withBody(Buffer.concat([base, u8(1)])))).toMatch(/extensions length runs past/);
  });

  it('rejects overruns inside server_name, ALPN and supported_versions', () => {
    const ext = (type: number, data: Buffer) => hello({ extensions: [[type, data]] });
    expect(invalid(ext(0, Buffer.concat([u16(20), u8(0), u16(3), Buffer.from('abc')])))).toMatch(/server_name_list/);
    expect(invalid(ext(0, vec16(Buffer.concat([u8(0), u16(30), Buffer.from('abc')]))))).toMatch(
      /server name runs past/,
    );
    expect(invalid(ext(0x10, vec16(Buffer.concat([u8(5), Buffer.from('h2')]))))).toMatch(/protocol name runs past/);
    expect(invalid(ext(0x10, vec16(u8(0))))).toMatch(/empty ALPN/);
    expect(invalid(ext(0x10, vec16(Buffer.alloc(0))))).toMatch(/protocol_name_list is empty/);
    expect(invalid(ext(0x2b, vec8(Buffer.from([3, 4, 3]))))).toMatch(/odd/);
    expect(invalid(ext(0x2b, Buffer.from([6, 3, 4])))).toMatch(/supported_versions runs past/);
    expect(invalid(ext(0x2b, Buffer.concat([vec8(u16(0x0304)), u8(0)])))).toMatch(/trailing/);
  });

  it('rejects bytes after the extensions, duplicate extensions, bad host names', () => {
    const body = Buffer.concat([helloBody({ extensions: [sniExt('a.test')] }), u8(0)]);
    expect(invalid(records(handshake(body)))).toMatch(/trailing bytes after extensions/);
    expect(invalid(hello({ extensions: [sniExt('a.test'), sniExt('b.test')] }))).toMatch(/duplicate extension 0x0000/);
    expect(invalid(hello({ extensions: [sniExt('a.test', 'b.test')] }))).toMatch(/more than one host_name/);
    expect(invalid(hello({ extensions: [sniExt('bad\u0000name')] }))).toMatch(/host_name contains byte 0x00/);
    expect(invalid(hello({ extensions: [sniExt('sp ace')] }))).toMatch(/0x20/);
    expect(invalid(hello({ extensions: [sniExt('')] }))).toMatch(/length 0/);
    expect(invalid(hello({ extensions: [sniExt('.')] }))).toMatch(/empty/);
  });

  it('rejects a handshake body shorter than a ClientHello', () => {
    expect(invalid(records(handshake(Buffer.alloc(0))))).toMatch(/legacy_version/);
    expect(invalid(records(handshake(Buffer.alloc(20))))).toMatch(/random/);
  });
});

describe('ClientHelloParser: too-large', () => {
  it('decides from the declared handshake length, after 9 bytes', () => {
    const declared = Buffer.concat([u8(0x16), u16(0x0301), u16(16_384), u8(1), u24(5000)]);
    const r = feedBytewise(Buffer.concat([declared, Buffer.alloc(100)]), 1000);
    expect(r).toEqual({ result: { status: 'too-large' }, pushes: 9 });
  });

  it('counts the record headers a multi-record hello needs', () => {
    // 20000 handshake bytes cannot fit one 16384-byte record: two headers, 20010 bytes minimum.
    const declared = Buffer.concat([u8(0x16), u16(0x0301), u16(16_384), u8(1), u24(19_996)]);
    expect(new ClientHelloParser(20_009).push(declared).status).toBe('too-large');
    expect(new ClientHelloParser(20_010).push(declared).status).toBe('need-more');
  });

  it('re-checks as record headers arrive (small records need more headers)', () => {
    // Records of 10 + 10 + 10 + 10 + rest: the lower bound reaches the real size at the 4th header.
    const wire = hello({ extensions: [sniExt('x.test')] }, [10, 10, 10, 10]);
    const p = new ClientHelloParser(wire.length - 1);
    expect(p.push(wire.subarray(0, 49)).status).toBe('need-more');
    expect(p.push(wire.subarray(49, 50)).status).toBe('too-large');
    expect(parseClientHello(wire, wire.length).status).toBe('done');
  });

  it('accepts a hello that ends exactly at the cap', () => {
    expect(parseClientHello(tls13, tls13.length).status).toBe('done');
    expect(feedBytewise(tls13, tls13.length - 1)).toEqual({ result: { status: 'too-large' }, pushes: 9 });
  });

  it('gives up once maxBytes are buffered without an answer', () => {
    const p = new ClientHelloParser(7);
    expect(p.push(tls13.subarray(0, 6)).status).toBe('need-more');
    expect(p.push(tls13.subarray(6, 7)).status).toBe('too-large');
  });

  it('rejects a non-positive cap at construction', () => {
    expect(() => new ClientHelloParser(0)).toThrow(RangeError);
  });
});

describe('ClientHelloParser: hellos captured from real clients', () => {
  it('node:tls with SNI and ALPN h2 + http/1.1', async () => {
    const wire = await captureNodeHello({ servername: 'example.test', ALPNProtocols: ['h2', 'http/1.1'] });
    const h = done(parseClientHello(wire));
    expect(h).toMatchObject({
      serverName: 'example.test',
      alpn: ['h2', 'http/1.1'],
      hasEch: false,
      length: wire.length,
    });
    expect(h.versions).toContain('TLSv1.3');
    expect(h.versions).toContain('TLSv1.2');
    expect(done(feedBytewise(wire).result)).toEqual(h);
  });

  it('node:tls limited to TLS 1.2 (no supported_versions: legacy_version)', async () => {
    const wire = await captureNodeHello({ servername: 'Legacy.Example.Test', maxVersion: 'TLSv1.2' });
    const h = done(parseClientHello(wire));
    expect(h).toMatchObject({ serverName: 'legacy.example.test', alpn: [], versions: ['TLSv1.2'] });
  });

  it('node:tls limited to TLS 1.3', async () => {
    const wire = await captureNodeHello({ servername: 'v13.example.test', minVersion: 'TLSv1.3' });
    expect(done(parseClientHello(wire)).versions).toEqual(['TLSv1.3']);
  });

  it('node:tls to an IP address sends no SNI', async () => {
    const wire = await captureNodeHello({ ALPNProtocols: ['http/1.1'] });
    expect(done(parseClientHello(wire))).toMatchObject({ serverName: null, alpn: ['http/1.1'] });
  });

  it.skipIf(!hasOpenssl)(
    `openssl s_client with -servername and -alpn${hasOpenssl ? '' : ' (skipped: no openssl binary on PATH)'}`,
    async () => {
      const wire = await captureOpensslHello(['-servername', 'openssl.example.test', '-alpn', 'h2,http/1.1']);
      const h = done(parseClientHello(wire));
      expect(h).toMatchObject({ serverName: 'openssl.example.test', alpn: ['h2', 'http/1.1'] });
      expect(h.versions[0]).toBe('TLSv1.3');
    },
  );

  it.skipIf(!hasOpenssl)(
    `openssl s_client -tls1_2${hasOpenssl ? '' : ' (skipped: no openssl binary on PATH)'}`,
    async () => {
      const wire = await captureOpensslHello(['-servername', 'old.example.test', '-tls1_2']);
      expect(done(parseClientHello(wire))).toMatchObject({ serverName: 'old.example.test', versions: ['TLSv1.2'] });
    },
  );
});
