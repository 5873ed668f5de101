/**
 * docs/configuration.md is generated from the configuration schema (scripts/gen-config-doc.mjs:
 * keys, types and defaults from the JSON Schema, reasons from the comments above each key in
 * src/config/schema.ts and route-schema.ts). These tests fail when the page is stale, when a key
 * with a default has no reason, or when a key is missing from the page.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildJsonSchema } from '../../../src/config/json-schema.js';

type Gen = {
  renderConfigDoc: (schema: Record<string, unknown>, sources: string[]) => string;
  keysWithoutReason: (schema: Record<string, unknown>, sources: string[]) => string[];
  SCHEMA_SOURCES: string[];
};
// @ts-expect-error plain ESM script without type declarations
const gen = (await import('../../../scripts/gen-config-doc.mjs')) as Gen;

const root = new URL('../../../', import.meta.url);
const sources = gen.SCHEMA_SOURCES.map((f) => readFileSync(new URL(f, root), 'utf8'));
const doc = readFileSync(new URL('docs/configuration.md', root), 'utf8');
const REGENERATE = 'run `npm run schema` to regenerate docs/configuration.md and schema/sightline.schema.json';

/** Every key path of a JSON Schema, as the page writes them. */
function paths(node: Record<string, unknown>, prefix: string, out: Set<string>): Set<string> {
  const props = node['properties'] as Record<string, Record<string, unknown>> | undefined;
  for (const [k, v] of Object.entries(props ?? {})) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.add(p);
    paths(v, p, out);
  }
  if (node['items']) paths(node['items'] as Record<string, unknown>, `${prefix}[]`, out);
  for (const b of (node['anyOf'] as Record<string, unknown>[] | undefined) ?? []) paths(b, prefix, out);
  return out;
}

describe('docs/configuration.md', () => {
  it('is what scripts/gen-config-doc.mjs renders from the schema', () => {
    expect(doc, REGENERATE).toBe(gen.renderConfigDoc(buildJsonSchema(), sources));
  });

  it('has a row for every key of the schema, with its default', () => {
    const schema = buildJsonSchema();
    const rows = new Map(
      [...doc.matchAll(/^\| `([^`]+)`(?: \(required\))? \| [^|]*(?:\\\|[^|]*)* \| ([^|]+) \|/gm)].map((m) => [
        m[1],
        m[2]!.trim(),
      ]),
    );
    const all = paths(schema, '', new Set());
    expect(all.size).toBeGreaterThan(80);
    for (const p of all) expect(rows.has(p), `no row for ${p}`).toBe(true);
    expect(rows.get('inactivityTimeout')).toBe('`14400000` (4 h)');
    expect(rows.get('admin.port')).toBe('`9464`');
    expect(rows.get('routes[].action.websocket.pingInterval')).toBe('`30000` (30 s)');
  });

  it('gives the reason for every default', () => {
    expect(gen.keysWithoutReason(buildJsonSchema(), sources)).toEqual([]);
    expect(doc).toContain('| `http.upstream.idleTimeout` | integer | `4000` (4 s) | 4 s, below Node');
  });

  it('finds a key without a reason (the check can fail)', () => {
    const bare = sources.map((s) => s.replace(/\n\s*\/\/ 9464 is the conventional port[^\n]*/, ''));
    expect(gen.keysWithoutReason(buildJsonSchema(), bare)).toEqual(['admin.port']);
  });
});
