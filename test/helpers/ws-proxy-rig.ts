/**
 * The rig of the WebSocket proxy tests (test/integration/websocket*.test.ts): a `ws` backend that
 * records its connections, clients that count pings, proxies with WebSocket routes. Each test file
 * registers `cleanup` in its own afterEach.
 */
import { expect } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type ClientOptions, type RawData } from 'ws';
import type { SightlineOptions } from '../../src/config/schema.js';
import type { SightlineDeps } from '../../src/server.js';
import type { WsRelay } from '../../src/proxy/websocket.js';
import { HOST } from './net.js';
import { startProxy, type RunningProxy } from './proxy.js';

export const cleanup: Array<() => Promise<void> | void> = [];
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export type Pems = { key: string; cert: string };
export type RouteList = SightlineOptions['routes'];
export type WsOpts = { enabled?: boolean; pingInterval?: number; pingTimeout?: number; maxPayloadSize?: number };

export function toBuffer(m: RawData): Buffer {
  return Buffer.isBuffer(m) ? m : Array.isArray(m) ? Buffer.concat(m) : Buffer.from(m);
}

// ---- backend --------------------------------------------------------------------------------

/** One WebSocket as the backend sees it. */
export interface BackendConn {
  readonly ws: WebSocket;
  /** The backend's TCP (or TLS) socket of this WebSocket. */
  readonly socket: net.Socket;
  readonly messages: Buffer[];
  pings: number;
  pongs: number;
  /** The close code the backend's ws saw (1006: no close frame); null while open. */
  closeCode: number | null;
  readonly closed: Promise<number>;
}

export interface WsBackend {
  readonly port: number;
  readonly conns: BackendConn[];
  /** The socket of every plain (non-upgrade) request served. */
  readonly requestSockets: net.Socket[];
  /** Every TCP connection the backend accepted, open or not. */
  readonly tcp: net.Socket[];
}

/** An HTTP(S) server answering plain requests with `hello <url>` and echoing WebSocket messages. */
export async function wsBackend(pems?: Pems): Promise<WsBackend> {
  const server: http.Server = pems === undefined ? http.createServer() : https.createServer(pems);
  const tcp: net.Socket[] = [];
  const requestSockets: net.Socket[] = [];
  const conns: BackendConn[] = [];
  server.on('connection', (s: net.Socket) => tcp.push(s));
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    requestSockets.push(req.socket);
    res.end(`hello ${req.url ?? ''}`);
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    let done!: (code: number) => void;
    const c: BackendConn = {
      ws,
      socket: req.socket,
      messages: [],
      pings: 0,
      pongs: 0,
      closeCode: null,
      closed: new Promise<number>((r) => (done = r)),
    };
    ws.on('message', (m, isBinary) => {
      c.messages.push(toBuffer(m));
      ws.send(m, { binary: isBinary });
    });
    ws.on('ping', () => c.pings++);
    ws.on('pong', () => c.pongs++);
    ws.on('error', () => {});
    ws.on('close', (code) => {
      c.closeCode = code;
      done(code);
    });
    conns.push(c);
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        for (const s of tcp) s.destroy();
        wss.close();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as AddressInfo).port, conns, requestSockets, tcp };
}

// ---- client ---------------------------------------------------------------------------------

export interface Client {
  readonly ws: WebSocket;
  /** Payloads of the pings this client received. */
  readonly pings: Buffer[];
  readonly closed: Promise<{ code: number; reason: string }>;
  isClosed(): boolean;
}

/** `servername` (SNI) is passed through to tls.connect by ws, though its types omit it. */
export async function openClient(url: string, opts: ClientOptions & { servername?: string } = {}): Promise<Client> {
  const ws = new WebSocket(url, opts as ClientOptions);
  const pings: Buffer[] = [];
  let isClosed = false;
  ws.on('ping', (d) => pings.push(d));
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.on('close', (code, reason) => {
      isClosed = true;
      r({ code, reason: reason.toString() });
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
  });
  ws.on('error', () => {});
  cleanup.push(() => ws.terminate());
  return { ws, pings, closed, isClosed: () => isClosed };
}

/** Send one message and resolve with the next message received. */
export function roundTrip(
  ws: WebSocket,
  data: string | Buffer,
  timeoutMs = 3000,
): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no echo')), timeoutMs);
    ws.once('message', (m, isBinary) => {
      clearTimeout(t);
      resolve({ data: toBuffer(m), isBinary });
    });
    ws.send(data);
  });
}

export async function expectEcho(ws: WebSocket, text: string): Promise<void> {
  const r = await roundTrip(ws, text);
  expect(r.isBinary).toBe(false);
  expect(r.data.toString()).toBe(text);
}

/** Resolve within `ms`, or reject naming `what`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_r, reject) => setTimeout(() => reject(new Error(`timeout: ${what}`)), ms))]);
}

// ---- proxy ----------------------------------------------------------------------------------

export async function proxy(
  options: Omit<SightlineOptions, 'routes'> & { routes: RouteList },
  deps?: SightlineDeps,
): Promise<RunningProxy> {
  const p = await startProxy({ gracefulShutdownTimeout: 500, ...options } as SightlineOptions, deps);
  cleanup.push(() => p.stop());
  return p;
}

/** A plain HTTP route (WebSocket upgrades allowed) from `port` to the backend. */
export function httpRoute(name: string, port: number, backendPort: number, websocket?: WsOpts): RouteList[number] {
  return {
    name,
    match: { ports: port },
    action: {
      type: 'forward',
      target: { host: HOST, port: backendPort },
      protocol: 'http',
      ...(websocket === undefined ? {} : { websocket }),
    },
  };
}

/** The live relay of the one WebSocket on a proxy (internal state, read-only). */
export function onlyRelay(p: RunningProxy): WsRelay {
  const conns = [...p.proxy.connectionManager.getConnections().values()];
  expect(conns).toHaveLength(1);
  return conns[0]!.modeState as WsRelay;
}
