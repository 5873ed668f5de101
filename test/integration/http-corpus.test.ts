/**
 * The HTTP integrity corpus (test/corpus/http/): one table per class of hostile or odd message,
 * each row run through the real proxy against a real keep-alive backend (one pooled upstream
 * socket, so a desynchronised one would serve the next client).
 *
 * Requests (`requests/*.md`): the row's bytes are sent on a fresh connection, then FIN. `expect`
 * lists the answers in order: `200` is the backend's answer to a forwarded request, anything else
 * the proxy's own status and reason. Checked: the answers; the backend saw exactly the requests
 * Sightline counted as completed and Node's parser never choked on what it was sent; a victim
 * request sent next gets its own response.
 *
 * Responses (`responses/*.md`): the row's bytes are what a scripted keep-alive backend answers to
 * `GET /case` (`{PAUSE}` splits them into writes 15 ms apart, `{END}` closes the backend's side).
 * `expect` is the status the client gets (`502 reason` when refused). A victim request follows on
 * the pooled socket and must get its own answer, never bytes left over from the case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import type { SightlineOptions } from '../../src/config/schema.js';
import { freePort, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';
import {
  corpusRows,
  exchange,
  recordingBackend,
  scriptedBackend,
  unescape,
  type Backend,
  type RawBackend,
} from './http-corpus/harness.js';

const DIR = new URL('../corpus/http/', import.meta.url);
const files = (sub: string): string[] =>
  readdirSync(new URL(`${sub}/`, DIR))
    .filter((f) => f.endsWith('.md'))
    .sort();
const read = (sub: string, f: string): string => readFileSync(new URL(`${sub}/${f}`, DIR), 'utf8');

type Route = SightlineOptions['routes'][number];
const route = (name: string, port: number, target: number, match: object = {}): Route =>
  ({
    name,
    match: { ports: port, ...match },
    action: { type: 'forward', protocol: 'http', target: { host: HOST, port: target } },
  }) as Route;

/** Status lines of the answers in `out`, in order. */
const statuses = (out: string): string[] => [...out.matchAll(/HTTP\/1\.1 (\d{3})[ \r]/g)].map((m) => m[1]!);

const requestCases = files('requests').flatMap((f) => corpusRows(f, read('requests', f)));
const responseCases = files('responses').flatMap((f) => corpusRows(f, read('responses', f)));

describe('request corpus', () => {
  let be: Backend;
  let p: RunningProxy;
  let port: number;
  let victims = 0;
  beforeAll(async () => {
    be = await recordingBackend();
    port = await freePort();
    p = await startProxy({
      gracefulShutdownTimeout: 200,
      connectionRateLimitPerMinute: 0, // two connections per case, hundreds of cases
      http: { upstream: { maxSockets: 1 }, requestHeadersTimeout: 2000 },
      routes: [route('tenant', port, be.port, { headers: { 'X-Tenant': 'blue' } }), route('be', port, be.port)],
    });
  });
  afterAll(async () => {
    await p.stop();
    await be.close();
  });

  it('has at least 100 cases', () => {
    expect(requestCases.length).toBeGreaterThanOrEqual(100);
  });

  for (const c of requestCases) {
    it(`${c.file}: ${c.name} → ${c.expect}`, async () => {
      const want = c.expect.split(',').map((e) => e.trim());
      const seenBefore = be.seen.length;
      const errorsBefore = be.clientErrors.length;
      const evBefore = p.requests.events.length;
      const out = await exchange(port, c.bytes);
      const events = p.requests.events
        .slice(evBefore)
        .map((e) => (e.reason === 'http_completed' ? String(e.status) : `${e.status} ${e.reason}`));
      expect(events, out).toEqual(want);
      expect(statuses(out), out).toEqual(want.map((w) => w.slice(0, 3)));
      for (const w of want) if (w.includes(' ')) expect(out).toContain(`(sightline: ${w.slice(4)})`);
      // The backend saw exactly the requests Sightline counted, and understood each one.
      expect(be.seen.length - seenBefore).toBe(want.filter((w) => w === '200').length);
      // (Unless the proxy itself had to cut off a body it had started forwarding: the client
      // stopped sending; the backend sees a truncated request and counts nothing.)
      const cutOff = p.requests.events.slice(evBefore).some((e) => e.error === 'request body ended early');
      if (!cutOff) expect(be.clientErrors.slice(errorsBefore)).toEqual([]);
      const n = ++victims;
      const v = await exchange(port, Buffer.from(`GET /victim-${n} HTTP/1.1\r\nHost: v\r\n\r\n`));
      expect(v).toMatch(new RegExp(`^HTTP/1\\.1 200 OK\\r\\n[\\s\\S]*\\r\\n\\r\\nseen \\d+ GET /victim-${n} 0$`));
    });
  }
});

describe('response corpus', () => {
  let be: RawBackend;
  let p: RunningProxy;
  let port: number;
  const answers = new Map<string, Buffer[]>();
  beforeAll(async () => {
    be = await scriptedBackend((line) => {
      const path = line.split(' ')[1] ?? '';
      const scripted = answers.get(path);
      if (scripted !== undefined) return scripted;
      return Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${line.length}\r\n\r\n${line}`, 'latin1');
    });
    port = await freePort();
    p = await startProxy({
      gracefulShutdownTimeout: 200,
      connectionRateLimitPerMinute: 0,
      http: { upstream: { maxSockets: 1 }, responseTimeout: 1000 },
      routes: [route('raw', port, be.port)],
    });
  });
  afterAll(async () => {
    await p.stop();
    await be.close();
  });

  it('has at least 30 cases', () => {
    expect(responseCases.length).toBeGreaterThanOrEqual(30);
  });

  let n = 0;
  for (const c of responseCases) {
    it(`${c.file}: ${c.name} → ${c.expect}`, async () => {
      const i = ++n;
      // Re-read the raw cell: {PAUSE} and {END} are instructions, not bytes.
      const rawCell = read('responses', c.file)
        .split('\n')
        .find((l) => l.startsWith(`| ${c.name} |`))!;
      const cell = rawCell.slice(rawCell.lastIndexOf(' | `') + 4, rawCell.lastIndexOf('` |'));
      const pieces = cell
        .split('{PAUSE}')
        .flatMap((piece) =>
          piece.endsWith('{END}') ? [unescape(piece.slice(0, -5)), Buffer.alloc(0)] : [unescape(piece)],
        );
      answers.set(`/case-${i}`, pieces);
      const evBefore = p.requests.events.length;
      const out = await exchange(port, Buffer.from(`GET /case-${i} HTTP/1.1\r\nHost: h\r\n\r\n`));
      const [status, reason] = c.expect.split(' ');
      expect(statuses(out)[0] ?? out, out).toBe(status);
      const ev = p.requests.events.slice(evBefore);
      expect(ev.map((e) => e.reason)).toEqual([reason ?? 'http_completed']);
      // The proxy's own answers name their reason; a response cut off mid-body is aborted.
      if (status!.startsWith('5')) expect(out).toContain(`(sightline: ${reason})`);
      expect(out).not.toContain('poison');
      // Late bytes must arrive while no request is outstanding (after that they would be read as
      // the answer to the next request: no proxy can tell them apart).
      if (cell.includes('{PAUSE}')) await new Promise((r) => setTimeout(r, 100));
      const v = await exchange(port, Buffer.from(`GET /victim-${i} HTTP/1.1\r\nHost: v\r\n\r\n`));
      expect(v).toMatch(new RegExp(`^HTTP/1\\.1 200 OK\\r\\n[\\s\\S]*\\r\\n\\r\\nGET /victim-${i} HTTP/1\\.1$`));
    });
  }
});
