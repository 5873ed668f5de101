/**
 * schema/sightline.schema.json is generated from the zod schema and committed (editors and the
 * package use it) by `npm run schema` (scripts/gen-schema.mjs). This test renders it with the
 * script's own renderSchema() and fails when the two drift; regenerate with `npm run schema`.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildJsonSchema } from '../../../src/config/json-schema.js';

const schemaPath = fileURLToPath(new URL('../../../schema/sightline.schema.json', import.meta.url));
const REGENERATE = 'run `npm run schema` to regenerate';

// @ts-expect-error plain ESM script without type declarations
const { renderSchema } = (await import('../../../scripts/gen-schema.mjs')) as {
  renderSchema: (s: Record<string, unknown>) => string;
};
const render = (): string => renderSchema(buildJsonSchema());

async function committed(): Promise<string | undefined> {
  try {
    return await readFile(schemaPath, 'utf8');
  } catch {
    return undefined;
  }
}

describe('schema/sightline.schema.json', () => {
  it('matches the zod schema', async () => {
    const expected = render();
    const actual = await committed();
    if (actual === undefined) expect.fail(`schema/sightline.schema.json is missing; ${REGENERATE}`);
    if (actual !== expected) {
      expect(JSON.parse(actual) as unknown, `schema/sightline.schema.json is out of date; ${REGENERATE}`).toEqual(
        JSON.parse(expected),
      );
      expect.fail(`schema/sightline.schema.json differs in formatting; ${REGENERATE}`);
    }
  });

  it('describes the input side: identified, strict, only routes required', () => {
    const s = buildJsonSchema() as {
      $schema: string;
      $id: string;
      title: string;
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, { default?: unknown }>;
    };
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    // Editors and users' `$schema` lines point here: changing it is a breaking change.
    expect(s.$id).toBe('https://sightline.dev/schema/sightline.schema.json');
    expect(s.title).toBe('Sightline configuration');
    expect(s.required).toEqual(['routes']);
    expect(s.additionalProperties).toBe(false);
    expect(s.properties['inactivityTimeout']?.default).toBe(14_400_000);
    expect(s.properties['keepAliveTreatment']?.default).toBe('extended');
  });

  it('drops function members from unions and notes standalone ones', () => {
    const text = JSON.stringify(buildJsonSchema());
    const s = JSON.parse(text) as {
      properties: {
        routes: {
          items: {
            properties: { action: { properties: Record<string, { anyOf?: unknown[]; description?: string }> } };
          };
        };
      };
    };
    const action = s.properties.routes.items.properties.action.properties;
    const target = action['target'] as unknown as { properties: Record<string, { anyOf: unknown[] }> };
    expect(target.properties['host']?.anyOf).toHaveLength(2);
    expect(target.properties['port']?.anyOf).toHaveLength(2);
    expect(action['socketHandler']?.description).toMatch(/library API/);
    expect(text).not.toContain('{}]');
  });

  it('is referenced by the bundled examples', async () => {
    for (const name of ['quickstart.yaml', 'sni-passthrough.yaml']) {
      const text = await readFile(fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url)), 'utf8');
      expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schema/sightline.schema.json');
      expect(parseYaml(text)).toHaveProperty('routes');
    }
  });
});
