/**
 * The rig of the HTTP proxy tests (test/integration/http-proxy*.test.ts): a recording HTTP
 * backend, a proxy with HTTP routes, and clients that send well-formed or raw requests. Each
 * test file registers `cleanup` in its own afterEach.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { SightlineOptions } from '../../src/config/schema.js';
import { sha256, HOST } from './net.js';
import { startProxy, type RunningProxy } from './proxy.js';

export const cleanup: Array<() => Promise<void> | void> = [];

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  socket: number;
  bodyHash: string;
}

/** An HTTP backend that records every request (and which TCP connection carried it). */
export async function backend(
  tag: string,
  handler?: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void,
): Promise<{ port: number; seen: Seen[]; connections: () => number; server: http.Server }> {
  const seen: Seen[] = [];
  let sockets = 0;
  const ids = new WeakMap<net.Socket, number>();
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      seen.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        socket: ids.get(req.socket) ?? -1,
        bodyHash: sha256(body),
      });
      if (handler) handler(req, res, body);
      else res.end(`${tag} ${req.method} ${req.url}`);
    });
  });
  server.on('connection', (s) => ids.set(s, ++sockets));
  await new Promise<void>((r) => server.listen(0, HOST, r));
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as AddressInfo).port, seen, connections: () => sockets, server };
}

export async function proxy(
  port: number,
  routes: SightlineOptions['routes'],
  extra: Partial<SightlineOptions> = {},
): Promise<RunningProxy> {
  void port;
  const p = await startProxy({ gracefulShutdownTimeout: 200, ...extra, routes });
  cleanup.push(() => p.stop());
  return p;
}

export function route(
  name: string,
  port: number,
  target: number,
  more: { match?: object; action?: object } = {},
): SightlineOptions['routes'][number] {
  return {
    name,
    match: { ports: port, ...more.match },
    action: { type: 'forward', protocol: 'http', target: { host: HOST, port: target }, ...more.action },
  } as SightlineOptions['routes'][number];
}

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(port: number, opts: http.RequestOptions & { body?: string | Buffer } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port, path: '/', ...opts }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts).toString() }),
      );
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Send raw bytes on a fresh connection; resolve with everything the proxy answered until it closed. */
export function raw(port: number, bytes: string | Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, HOST);
    const parts: Buffer[] = [];
    const t = setTimeout(() => {
      s.destroy();
      resolve(Buffer.concat(parts).toString('latin1'));
    }, timeoutMs);
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(t);
      resolve(Buffer.concat(parts).toString('latin1'));
    });
    s.write(bytes);
  });
}
