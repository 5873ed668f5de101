/** A local OTLP/HTTP JSON receiver (`POST /v1/traces`) for tracing tests: real HTTP, bodies parsed. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type KV = { key: string; value: Record<string, unknown> };
export type OtlpSpan = { name: string; kind: number; attributes: KV[] };
type Body = { resourceSpans: Array<{ resource: { attributes: KV[] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }> };

export interface OtlpReceiver {
  /** `http://127.0.0.1:PORT/v1/traces` */
  readonly url: string;
  readonly bodies: unknown[];
  /** Every span received, with its resource's attributes (as plain values). */
  spans(): Array<{ span: OtlpSpan; resource: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** The single value of an OTLP attribute (`{ stringValue: 'x' }` → 'x'). */
export const attrOf = (kvs: KV[], key: string): unknown =>
  Object.values(kvs.find((a) => a.key === key)?.value ?? {})[0];

export async function otlpReceiver(host = '127.0.0.1'): Promise<OtlpReceiver> {
  const bodies: unknown[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') bodies.push(JSON.parse(Buffer.concat(parts).toString()));
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/v1/traces`,
    bodies,
    spans: () =>
      (bodies as Body[]).flatMap((b) =>
        b.resourceSpans.flatMap((rs) => {
          const resource = Object.fromEntries(rs.resource.attributes.map((a) => [a.key, attrOf([a], a.key)]));
          return rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => ({ span, resource })));
        }),
      ),
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
