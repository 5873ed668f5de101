/**
 * The JSON Schema of the configuration file, generated from the one zod schema (DESIGN §2.7) and
 * committed as schema/sightline.schema.json (kept in step by test/unit/config/json-schema.test.ts).
 * Editors use it for completion and checking of YAML/JSON configs.
 */
import { z } from 'zod';
import { optionsSchema } from './schema.js';

const SCHEMA_ID = 'https://sightline.dev/schema/sightline.schema.json';

const FUNCTION_NOTE = 'A function: only possible through the library API, not in YAML/JSON.';

/**
 * Function-valued members (target host/port functions, socketHandler) cannot be written in a
 * file: standalone they become `{}` with a note; inside a union they are dropped, since a `{}`
 * branch would make the whole `anyOf` accept anything.
 */
function functionMembers(ctx: { zodSchema: z.core.$ZodType; jsonSchema: z.core.JSONSchema.BaseSchema }): void {
  const def = ctx.zodSchema._zod.def;
  if (def.type === 'custom') {
    ctx.jsonSchema.description ??= FUNCTION_NOTE;
    return;
  }
  if (def.type !== 'union' || !Array.isArray(ctx.jsonSchema.anyOf)) return;
  const options = (def as z.core.$ZodUnionDef).options;
  const kept = ctx.jsonSchema.anyOf.filter((_, i) => options[i]?._zod.def.type !== 'custom');
  if (kept.length > 0 && kept.length < ctx.jsonSchema.anyOf.length) ctx.jsonSchema.anyOf = kept;
}

/** Draft 2020-12 schema of what users write (input side: keys with defaults are optional). */
export function buildJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(optionsSchema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    override: functionMembers,
  });
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: SCHEMA_ID,
    title: 'Sightline configuration',
    description:
      'Options of the Sightline TCP/TLS proxy (`sightline start -c FILE`, YAML or JSON). Durations are in milliseconds.',
    ...rest,
  };
}
