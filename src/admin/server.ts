/**
 * The admin listener (DESIGN §1 L6, §5): its own `node:http` server, not one of the proxy's
 * listeners, on 127.0.0.1:9464 by default. The composition root starts it with an `AdminSource`
 * over the live proxy and closes it during shutdown. Every limit is finite (header size and
 * count, request and header deadlines, connections), malformed requests get a 4xx and never reach
 * the handler, and `close()` ends every open socket.
 */
import http from 'node:http';
import type net from 'node:net';
import { listen } from '../core/listen.js';
import { createAuthorizer, createHostCheck } from './auth.js';
import { createHandler } from './handler.js';
import { error, rawError, send } from './respond.js';
import type { AdminSource } from './source.js';

export interface AdminServerOptions {
  readonly host: string;
  /** 0 = an ephemeral port (read it back from `port`). */
  readonly port: number;
  /** When set, every route but /healthz and /readyz needs `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** Host header values answered without a token besides loopback ones (DNS rebinding guard). */
  readonly allowedHosts?: readonly string[];
}

export interface AdminServer {
  readonly port: number;
  /** Base URL, ending in `/`. */
  readonly url: string;
  /** Requests answered 500 because the source threw. */
  readonly sourceErrors: number;
  /** Stop listening and destroy every open socket; idempotent. */
  close(): Promise<void>;
}

/** Admin clients are a few browsers and scrapers: these bound what a stray client can hold. */
const LIMITS = {
  maxHeaderSize: 16_384,
  maxHeadersCount: 100,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  maxConnections: 1_024,
} as const;

/** Node's parser errors mapped to the status a client should see. */
function clientErrorStatus(code: string | undefined): [number, string] {
  if (code === 'HPE_HEADER_OVERFLOW') return [431, 'Request Header Fields Too Large'];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'Request Timeout'];
  return [400, 'Bad Request'];
}

function onClientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason] = clientErrorStatus(err.code);
  socket.end(rawError(status, reason));
}

const urlHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

export async function startAdmin(o: AdminServerOptions, source: AdminSource): Promise<AdminServer> {
  const handler = createHandler(source, createAuthorizer(o.token));
  const hostOk = createHostCheck(o.token, o.allowedHosts);
  const server = http.createServer(
    {
      maxHeaderSize: LIMITS.maxHeaderSize,
      headersTimeout: LIMITS.headersTimeout,
      requestTimeout: LIMITS.requestTimeout,
      keepAliveTimeout: LIMITS.keepAliveTimeout,
    },
    (req, res) => {
      // Probes carry no data and come from orchestrators that use the pod's address as Host.
      const probe = req.url === '/healthz' || req.url === '/readyz';
      if (probe || hostOk(req)) handler(req, res);
      else
        send(
          res,
          error(
            421,
            'Host not allowed: without admin.token only loopback Host values (and admin.allowedHosts) are answered',
          ),
        );
    },
  );
  server.maxHeadersCount = LIMITS.maxHeadersCount;
  server.maxConnections = LIMITS.maxConnections;
  server.on('clientError', onClientError);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  await listen(server, { port: o.port, host: o.host }, `admin port ${o.port} on ${o.host}`);
  // After listen, a server error (e.g. EMFILE on accept) must not crash the process.
  server.on('error', () => {});

  const port = (server.address() as net.AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${urlHost(o.host)}:${port}/`,
    get sourceErrors() {
      return handler.errors;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
