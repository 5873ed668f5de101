/**
 * Real sockets for the HTTP integrity tests: a keep-alive Node backend that records what it saw,
 * a scripted raw backend for response cases, and a raw client that sends bytes (whole or in
 * pieces) and reads until the proxy closes.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { HOST } from '../../helpers/net.js';

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: readonly string[];
  readonly body: string;
  /** Which backend TCP connection carried it (1, 2, ...). */
  readonly socket: number;
}

export interface Backend {
  readonly port: number;
  readonly seen: Seen[];
  /** Requests Node's parser rejected (it answers 400 and closes). */
  readonly clientErrors: string[];
  connections(): number;
  close(): Promise<void>;
}

/** A keep-alive Node backend: answers `seen <n> <METHOD> <url> <body bytes>` to every request. */
export async function recordingBackend(): Promise<Backend> {
  const seen: Seen[] = [];
  const clientErrors: string[] = [];
  let sockets = 0;
  const ids = new WeakMap<net.Socket, number>();
  // Heads up to 64 KiB: the proxy, not the backend, is what refuses oversize heads here.
  const server = http.createServer({ maxHeaderSize: 65_536 }, (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('latin1');
      seen.push({
        method: req.method!,
        url: req.url!,
        rawHeaders: req.rawHeaders,
        body,
        socket: ids.get(req.socket) ?? -1,
      });
      res.end(`seen ${seen.length} ${req.method} ${req.url} ${body.length}`);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => ids.set(s, ++sockets));
  server.on('clientError', (err: Error, s: net.Socket) => {
    clientErrors.push(err.message);
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    clientErrors,
    connections: () => sockets,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface RawBackend {
  readonly port: number;
  /** Request lines received, in order (the proxy sends GETs without bodies here). */
  readonly requests: string[];
  connections(): number;
  close(): Promise<void>;
}

/**
 * A keep-alive backend that answers each request head with the bytes `answer(requestLine)` gives
 * (written as one piece, or in the pieces of an array with a short pause between them; an empty
 * piece ends the backend's side).
 */
export async function scriptedBackend(answer: (line: string) => Buffer | Buffer[]): Promise<RawBackend> {
  const requests: string[] = [];
  let sockets = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets++;
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => undefined);
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        const line = buf.slice(0, buf.indexOf('\r\n'));
        buf = buf.slice(end + 4);
        requests.push(line);
        const out = answer(line);
        if (Buffer.isBuffer(out)) s.write(out);
        else void writePieces(s, out);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    connections: () => sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}

async function writePieces(s: net.Socket, pieces: Buffer[]): Promise<void> {
  for (const p of pieces) {
    if (s.destroyed) return;
    if (p.length === 0) return void s.end(); // an empty piece: the backend closes its side
    s.write(p);
    await new Promise((r) => setTimeout(r, 15));
  }
}

/**
 * Send `bytes` on a fresh connection (in one write, or `pieces` bytes at a time), half-close, and
 * resolve with everything the proxy answered until it closed.
 */
export function exchange(
  port: number,
  bytes: Buffer,
  opts: { pieces?: number; timeoutMs?: number; end?: boolean } = {},
): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, HOST);
    s.setNoDelay(true);
    const parts: Buffer[] = [];
    const t = setTimeout(() => s.destroy(), opts.timeoutMs ?? 3000);
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(t);
      resolve(Buffer.concat(parts).toString('latin1'));
    });
    s.on('connect', () => {
      const n = opts.pieces ?? bytes.length;
      for (let i = 0; i < bytes.length; i += n) s.write(bytes.subarray(i, i + n));
      if (opts.end !== false) s.end();
    });
  });
}

/** Decode a corpus cell: `\r \n \t \0 \\ \|` and `\xHH`; `{N*text}` repeats text N times. */
export function unescape(cell: string): Buffer {
  const expanded = cell.replace(/\{(\d+)\*([^}]*)\}/g, (_m, n: string, t: string) => t.repeat(Number(n)));
  let out = '';
  for (let i = 0; i < expanded.length; i++) {
    const c = expanded[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = expanded[++i];
    if (n === 'r') out += '\r';
    else if (n === 'n') out += '\n';
    else if (n === 't') out += '\t';
    else if (n === '0') out += '\0';
    else if (n === 'x') {
      out += String.fromCharCode(parseInt(expanded.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += n ?? '';
  }
  return Buffer.from(out, 'latin1');
}

export interface CorpusCase {
  readonly file: string;
  readonly name: string;
  readonly expect: string;
  readonly bytes: Buffer;
}

/** The rows of a corpus table: `| name | expect | bytes |` (header and separator rows skipped). */
export function corpusRows(file: string, text: string): CorpusCase[] {
  const out: CorpusCase[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| case ') || line.startsWith('|---')) continue;
    const cells = line
      .slice(2, -2)
      .split(/(?<!\\) \| /)
      .map((c) => c.trim());
    if (cells.length !== 3) throw new Error(`${file}: a row needs 3 cells: ${line}`);
    out.push({ file, name: cells[0]!, expect: cells[1]!, bytes: unescape(cells[2]!.replace(/^`|`$/g, '')) });
  }
  return out;
}
