#!/usr/bin/env node
// A minimal OTLP/HTTP trace receiver for benchmarks: accepts POST /v1/traces (http/protobuf or
// http/json, optionally gzip), counts requests, bytes and spans, answers 200 `{}` (json) or an
// empty ExportTraceServiceResponse (protobuf). Nothing is stored.
//
//   node bench/otlp-sink.mjs [--host 127.0.0.1] [--port 0] [--port-file F] [--stats-file F]
//
// Prints `otlp-sink: listening on http://HOST:PORT` and writes PORT to --port-file once
// listening. The counts are written to --stats-file (JSON) every second and on SIGTERM/SIGINT,
// then it exits 0. GET /stats returns the same JSON.
//
// Spans are counted by walking the protobuf wire format only as deep as needed
// (ExportTraceServiceRequest.resource_spans[1] -> ResourceSpans.scope_spans[2] ->
// ScopeSpans.spans[2]), skipping every span body by its length: cheap enough not to compete with
// the proxy for the shared cores.
import fs from 'node:fs';
import http from 'node:http';
import zlib from 'node:zlib';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    'port-file': { type: 'string' },
    'stats-file': { type: 'string' },
  },
});

const stats = {
  requests: 0,
  bytes: 0, // request body bytes as received (compressed if gzip)
  spans: 0,
  by_content_type: {},
  by_path: {},
  bad_requests: 0,
  first_at: null,
  last_at: null,
  started_at: new Date().toISOString(),
};

function varint(buf, pos) {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    v += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [v, pos];
    mul *= 128;
  }
}

/** Calls fn(fieldNo, start, end) for each length-delimited field of buf[start..end); skips others. */
function fields(buf, start, end, fn) {
  let pos = start;
  while (pos < end) {
    let key;
    [key, pos] = varint(buf, pos);
    const no = Math.floor(key / 8);
    const wt = key & 7;
    if (wt === 0) [, pos] = varint(buf, pos);
    else if (wt === 1) pos += 8;
    else if (wt === 5) pos += 4;
    else if (wt === 2) {
      let len;
      [len, pos] = varint(buf, pos);
      fn(no, pos, pos + len);
      pos += len;
    } else throw new Error(`unsupported wire type ${wt}`);
  }
  if (pos !== end) throw new Error('field overruns its message');
}

function countProtoSpans(buf) {
  let n = 0;
  fields(buf, 0, buf.length, (no, s, e) => {
    if (no !== 1) return; // resource_spans
    fields(buf, s, e, (no2, s2, e2) => {
      if (no2 !== 2) return; // scope_spans
      fields(buf, s2, e2, (no3) => {
        if (no3 === 2) n++; // spans
      });
    });
  });
  return n;
}

function countJsonSpans(buf) {
  const j = JSON.parse(buf.toString('utf8'));
  let n = 0;
  for (const rs of j.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) n += (ss.spans ?? []).length;
  return n;
}

const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    chunks.push(c);
    size += c.length;
  });
  req.on('end', () => {
    const now = new Date().toISOString();
    const ctype =
      String(req.headers['content-type'] ?? '')
        .split(';')[0]
        .trim() || 'none';
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(stats));
      return;
    }
    stats.requests++;
    stats.bytes += size;
    stats.by_content_type[ctype] = (stats.by_content_type[ctype] ?? 0) + 1;
    stats.by_path[path] = (stats.by_path[path] ?? 0) + 1;
    stats.first_at ??= now;
    stats.last_at = now;
    const isJson = ctype.includes('json');
    if (req.method !== 'POST' || path !== '/v1/traces') {
      stats.bad_requests++;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{}');
      return;
    }
    try {
      let body = Buffer.concat(chunks, size);
      if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) body = zlib.gunzipSync(body);
      stats.spans += isJson ? countJsonSpans(body) : countProtoSpans(body);
    } catch (e) {
      stats.bad_requests++;
      stats.last_error = String(e?.message ?? e);
    }
    // 200 with an empty ExportTraceServiceResponse (no partial_success): `{}` or zero bytes.
    if (isJson) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    } else {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    }
  });
});
server.keepAliveTimeout = 30_000;

function writeStats() {
  if (!a['stats-file']) return;
  const f = a['stats-file'];
  fs.writeFileSync(`${f}.tmp`, JSON.stringify({ ...stats, written_at: new Date().toISOString() }, null, 2) + '\n');
  fs.renameSync(`${f}.tmp`, f);
}

server.listen(Number(a.port), a.host, () => {
  const { port } = server.address();
  if (a['port-file']) fs.writeFileSync(a['port-file'], `${port}\n`);
  process.stderr.write(`otlp-sink: listening on http://${a.host}:${port} (pid ${process.pid})\n`);
});
setInterval(writeStats, 1000).unref();

function stop() {
  writeStats();
  process.stderr.write(
    `otlp-sink: ${stats.requests} requests, ${stats.bytes} bytes, ${stats.spans} spans, ${stats.bad_requests} bad\n`,
  );
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
