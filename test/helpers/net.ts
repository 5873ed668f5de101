/** Real sockets on 127.0.0.1 for tests: free ports, servers, clients, event capture. */
import net from 'node:net';
import tls from 'node:tls';
import diagnostics from 'node:diagnostics_channel';
import { createHash } from 'node:crypto';
import { CHANNEL_NAMES, type CloseEvent, type HttpRequestEvent } from '../../src/core/channels.js';

export const HOST = '127.0.0.1';

/** A port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, HOST, r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function freePorts(n: 1): Promise<[number]>;
export async function freePorts(n: 2): Promise<[number, number]>;
export async function freePorts(n: 3): Promise<[number, number, number]>;
export async function freePorts(n: number): Promise<number[]>;
export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await freePort();
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

export interface TestServer {
  readonly port: number;
  readonly server: net.Server;
  readonly sockets: Set<net.Socket>;
  close(): Promise<void>;
}

async function listen(server: net.Server, port = 0): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(port, HOST, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    server,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Echoes bytes back; honours half-close (ends after the client's FIN). */
export function echoServer(): Promise<TestServer> {
  return listen(
    net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      s.pipe(s);
    }),
  );
}

/** Writes `tag` on connect, then echoes (tells which backend a route reached). */
export function taggedServer(tag: string): Promise<TestServer> {
  return listen(
    net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      s.write(tag);
      s.pipe(s);
    }),
  );
}

export function customServer(
  onConn: (s: net.Socket) => void,
  opts: net.ServerOpts = { allowHalfOpen: true },
): Promise<TestServer> {
  return listen(net.createServer(opts, onConn));
}

let certCache: Promise<{ key: string; cert: string }> | null = null;
/** A self-signed certificate for localhost and *.test names (generated once per process). */
export function testCert(): Promise<{ key: string; cert: string }> {
  certCache ??= (async () => {
    const selfsigned = (await import('selfsigned')).default as unknown as {
      generate(attrs: unknown, opts: unknown): Promise<{ private: string; cert: string }>;
    };
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 2, value: '*.example.test' },
            { type: 2, value: 'a.test' },
            { type: 2, value: 'b.test' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    });
    return { key: pems.private, cert: pems.cert };
  })();
  return certCache;
}

/** A TLS server that answers each connection with `tag:<servername>` then echoes decrypted bytes. */
export async function tlsTaggedServer(tag: string): Promise<TestServer> {
  const { key, cert } = await testCert();
  return listen(
    tls.createServer({ key, cert, allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      s.write(`${tag}:${(s as tls.TLSSocket & { servername?: string }).servername ?? ''}`);
      s.pipe(s);
    }),
  );
}

export function connect(port: number, opts: Partial<net.NetConnectOpts> = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: HOST, allowHalfOpen: true, ...opts } as net.NetConnectOpts);
    s.once('connect', () => {
      s.removeListener('error', reject);
      // Keep the local port readable after close: tests match close events by it.
      Object.defineProperty(s, 'localPort', { value: s.localPort });
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Read until `n` bytes arrived (or the socket ended), resolve with them. */
export function readBytes(s: net.Socket, n: number, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const done = (err?: Error): void => {
      clearTimeout(t);
      s.removeListener('data', onData);
      s.removeListener('end', onEnd);
      s.removeListener('close', onEnd);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    const onData = (d: Buffer): void => {
      chunks.push(d);
      got += d.length;
      if (got >= n) done();
    };
    const onEnd = (): void => done();
    const t = setTimeout(() => done(new Error(`timeout: got ${got}/${n} bytes`)), timeoutMs);
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('close', onEnd);
  });
}

/** Resolve when the socket emits 'close' (with whether it ended by error). */
export function closed(
  s: net.Socket,
  timeoutMs = 5000,
): Promise<{ hadError: boolean; error: NodeJS.ErrnoException | null }> {
  return new Promise((resolve, reject) => {
    let error: NodeJS.ErrnoException | null = null;
    if (s.destroyed && s.closed) return resolve({ hadError: false, error: null });
    s.on('error', (e) => (error = e));
    // A half-open client (allowHalfOpen) answers the peer's FIN with its own, as most clients do.
    if (s.readableEnded) s.end();
    else s.once('end', () => s.end());
    s.resume(); // drain whatever the peer sent, or 'end' never comes
    const t = setTimeout(() => reject(new Error('timeout waiting for close')), timeoutMs);
    s.once('close', (hadError) => {
      clearTimeout(t);
      resolve({ hadError, error });
    });
  });
}

export function sha256(b: Buffer | Buffer[]): string {
  const h = createHash('sha256');
  for (const x of Array.isArray(b) ? b : [b]) h.update(x);
  return h.digest('hex');
}

/** Capture the events of one proxy from a diagnostics channel. */
export class ChannelEvents<E extends { readonly conn: { readonly proxyId: number } }> {
  readonly events: E[] = [];
  readonly #channel: string;
  readonly #describe: (e: E) => string;
  readonly #waiters: Array<{ pred: (e: E) => boolean; resolve: (e: E) => void }> = [];
  readonly #onMessage = (msg: unknown): void => {
    const e = msg as E;
    if (this.proxyId !== null && e.conn.proxyId !== this.proxyId) return;
    this.events.push(e);
    for (const w of [...this.#waiters]) {
      if (w.pred(e)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  };
  proxyId: number | null = null;

  constructor(channel: string, describe: (e: E) => string) {
    this.#channel = channel;
    this.#describe = describe;
    diagnostics.subscribe(channel, this.#onMessage);
  }
  forProxy(id: number): this {
    this.proxyId = id;
    return this;
  }
  /** The first (past or future) event matching `pred`. */
  next(pred: (e: E) => boolean = () => true, timeoutMs = 5000): Promise<E> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (e: E) => (clearTimeout(t), resolve(e)) };
      const t = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(
          new Error(`no matching ${this.#channel} event; seen: ${this.events.map(this.#describe).join(',') || 'none'}`),
        );
      }, timeoutMs);
      this.#waiters.push(w);
    });
  }
  dispose(): void {
    diagnostics.unsubscribe(this.#channel, this.#onMessage);
  }
}

/** Close events of one proxy. */
export class CloseEvents extends ChannelEvents<CloseEvent> {
  constructor() {
    super(CHANNEL_NAMES.close, (e) => e.reason);
  }
  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

/** HTTP request events (one per exchange) of one proxy. */
export class RequestEvents extends ChannelEvents<HttpRequestEvent> {
  constructor() {
    super(CHANNEL_NAMES.httpRequest, (e) => `${e.status}/${e.reason}`);
  }
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The real ClientHello bytes Node's TLS client sends for `servername` (captured on a raw socket). */
export async function captureClientHello(servername?: string, alpn?: string[]): Promise<Buffer> {
  let resolveHello!: (b: Buffer) => void;
  const got = new Promise<Buffer>((r) => (resolveHello = r));
  const srv = await customServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
        resolveHello(buf);
        s.destroy();
      }
    });
  });
  const c = tls.connect({ host: HOST, port: srv.port, servername, ALPNProtocols: alpn, rejectUnauthorized: false });
  c.on('error', () => {});
  const hello = await got;
  c.destroy();
  await srv.close();
  return hello;
}

type Pems = { key: string; cert: string };
async function generate(cn: string, opts: Record<string, unknown>): Promise<Pems> {
  const selfsigned = (await import('selfsigned')).default as unknown as {
    generate(attrs: unknown, opts: unknown): Promise<{ private: string; cert: string }>;
  };
  const p = await selfsigned.generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    ...opts,
  });
  return { key: p.private, cert: p.cert };
}

/** A self-signed certificate for exactly `name` (distinct per name, to tell which one was served). */
export function certFor(name: string): Promise<Pems> {
  return generate(name, { extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: name }] }] });
}

/** A private CA and a leaf for `name` (and 127.0.0.1) signed by it. */
export async function privateCa(name: string): Promise<{ ca: Pems; leaf: Pems }> {
  const ca = await generate('Sightline Test CA', {
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const leaf = await generate(name, {
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: name },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { ca, leaf };
}

/** One client round trip through `port`: send `payload`, read it back (an echo path), end, wait for the close. */
export async function echoRoundTrip(port: number, payload: string): Promise<void> {
  const s = await connect(port);
  s.write(payload);
  await readBytes(s, Buffer.byteLength(payload));
  s.end();
  await closed(s);
}
