/**
 * Test helpers: hand-built TLS ClientHello records, and real ClientHellos captured from node:tls
 * (and openssl s_client when present) on a plain net server that never answers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { connect, type ConnectionOptions } from 'node:tls';
import { ClientHelloParser, type HelloResult } from '../../../src/protocol/client-hello.js';

/**
 * One shot: the streaming parser fed all of `buf` at once (need-more if it is a valid prefix).
 * The default cap is generous (a ClientHello is rarely above 2 KiB) so only the tests of the cap meet it.
 */
export function parseClientHello(buf: Buffer, maxBytes: number = 64 * 1024): HelloResult {
  return new ClientHelloParser(maxBytes).push(buf);
}

export type Extension = readonly [type: number, data: Buffer];

export function u8(n: number): Buffer {
  return Buffer.from([n & 0xff]);
}
export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
}
export function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}
export function vec8(body: Buffer): Buffer {
  return Buffer.concat([u8(body.length), body]);
}
export function vec16(body: Buffer): Buffer {
  return Buffer.concat([u16(body.length), body]);
}

export function sniExt(...names: string[]): Extension {
  const list = names.map((n) => Buffer.concat([u8(0), vec16(Buffer.from(n, 'latin1'))]));
  return [0x0000, vec16(Buffer.concat(list))];
}
export function alpnExt(...protocols: string[]): Extension {
  return [0x0010, vec16(Buffer.concat(protocols.map((p) => vec8(Buffer.from(p, 'latin1')))))];
}
export function versionsExt(...versions: number[]): Extension {
  return [0x002b, vec8(Buffer.concat(versions.map(u16)))];
}
/** An ECH outer extension: type outer(0), cipher suite, config id, enc, payload (contents opaque here). */
export function echExt(): Extension {
  const body = Buffer.concat([
    u8(0),
    u16(0x0001),
    u16(0x0001),
    u8(7),
    vec16(Buffer.alloc(32, 1)),
    vec16(Buffer.alloc(128, 2)),
  ]);
  return [0xfe0d, body];
}
export function greaseExt(type: number, data: Buffer = Buffer.alloc(0)): Extension {
  return [type, data];
}
export function paddingExt(length: number): Extension {
  return [0x0015, Buffer.alloc(length)];
}

export interface HelloSpec {
  legacyVersion?: number;
  sessionId?: Buffer;
  cipherSuites?: readonly number[];
  /** undefined: no extensions block at all. */
  extensions?: readonly Extension[];
}

/** ClientHello body (after the handshake header). */
export function helloBody(spec: HelloSpec = {}): Buffer {
  const parts = [
    u16(spec.legacyVersion ?? 0x0303),
    Buffer.alloc(32, 0xab),
    vec8(spec.sessionId ?? Buffer.alloc(32, 0xcd)),
    vec16(Buffer.concat((spec.cipherSuites ?? [0x1301, 0x1302, 0xc02f]).map(u16))),
    vec8(Buffer.from([0])),
  ];
  if (spec.extensions !== undefined) {
    parts.push(vec16(Buffer.concat(spec.extensions.map(([t, d]) => Buffer.concat([u16(t), vec16(d)])))));
  }
  return Buffer.concat(parts);
}

/** Handshake message: type, 24-bit length, body. */
export function handshake(body: Buffer, type = 1): Buffer {
  return Buffer.concat([u8(type), u24(body.length), body]);
}

/** Wraps `message` in handshake records; `sizes` are the payload sizes of all but the last. */
export function records(message: Buffer, sizes: readonly number[] = [], recordVersion = 0x0301): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (const size of [...sizes, message.length]) {
    const payload = message.subarray(pos, Math.min(message.length, pos + size));
    if (payload.length === 0) break;
    out.push(u8(0x16), u16(recordVersion), u16(payload.length), payload);
    pos += payload.length;
  }
  return Buffer.concat(out);
}

/** A complete single-record ClientHello. */
export function hello(spec: HelloSpec = {}, sizes: readonly number[] = []): Buffer {
  return records(handshake(helloBody(spec)), sizes);
}

export const tls12 = hello({ extensions: [sniExt('example.com'), alpnExt('http/1.1')] });
export const tls13 = hello({
  extensions: [sniExt('api.example.com'), alpnExt('h2', 'http/1.1'), versionsExt(0x0304, 0x0303)],
});
export const greasy = hello({
  extensions: [
    greaseExt(0x0a0a),
    sniExt('grease.test'),
    versionsExt(0x3a3a, 0x0304, 0x0303, 0xfafa),
    greaseExt(0xfafa, Buffer.from([0])),
  ],
});
export const ech = hello({ extensions: [sniExt('public.example'), versionsExt(0x0304), echExt()] });
export const noSni = hello({ extensions: [versionsExt(0x0304)] });
export const noExtensions = hello({ legacyVersion: 0x0301 });

/** Valid hand-built hellos, one per feature. */
export const SAMPLES: ReadonlyArray<readonly [string, Buffer]> = [
  ['tls12', tls12],
  ['tls13', tls13],
  ['greasy', greasy],
  ['ech', ech],
  ['noSni', noSni],
  ['noExtensions', noExtensions],
  ['three records', hello({ extensions: [sniExt('multi.test'), alpnExt('h2')] }, [2, 40])],
];

/** Splits `buf` at the given offsets (sorted, deduplicated, clipped). */
export function splitAt(buf: Buffer, points: readonly number[]): Buffer[] {
  const cuts = [...new Set(points.map((p) => Math.max(0, Math.min(buf.length, p))))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts, buf.length]) {
    if (c > prev) out.push(buf.subarray(prev, c));
    prev = c;
  }
  return out;
}

/** Length of the complete first flight once the first record(s) hold the whole handshake message. */
function firstFlightComplete(buf: Buffer): boolean {
  if (buf.length < 9) return false;
  const need = 4 + ((buf[6]! << 16) | (buf[7]! << 8) | buf[8]!);
  let pos = 0;
  let have = 0;
  while (pos + 5 <= buf.length && have < need) {
    const len = buf.readUInt16BE(pos + 3);
    if (pos + 5 + len > buf.length) return false;
    have += len;
    pos += 5 + len;
  }
  return have >= need;
}

/** Listens on 127.0.0.1:0 and resolves with the first flight of the next connection. */
async function captureServer(): Promise<{ port: number; bytes: Promise<Buffer>; server: Server }> {
  let resolveBytes!: (b: Buffer) => void;
  const bytes = new Promise<Buffer>((r) => (resolveBytes = r));
  const server = createServer((socket) => {
    const chunks: Buffer[] = [];
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      if (firstFlightComplete(all)) {
        resolveBytes(all);
        socket.destroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, bytes, server };
}

/** The ClientHello node:tls sends for these options (the handshake is abandoned after capture). */
export async function captureNodeHello(options: ConnectionOptions): Promise<Buffer> {
  const { port, bytes, server } = await captureServer();
  const client = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
  client.on('error', () => {});
  try {
    return await bytes;
  } finally {
    client.destroy();
    server.close();
  }
}

export const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** The ClientHello `openssl s_client` sends with these extra arguments. */
export async function captureOpensslHello(args: readonly string[]): Promise<Buffer> {
  const { port, bytes, server } = await captureServer();
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  try {
    return await bytes;
  } finally {
    child.kill();
    server.close();
  }
}
