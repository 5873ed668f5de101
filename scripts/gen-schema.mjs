#!/usr/bin/env node
// schema/sightline.schema.json (editor completion and checking of YAML/JSON configs) from the one
// zod schema (src/config/schema.ts through src/config/json-schema.ts). `npm run schema` builds and
// runs this, then scripts/gen-config-doc.mjs; test/unit/config/json-schema.test.ts renders it from
// src/ with the same renderSchema() and fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The file's exact text: two-space JSON and a final newline. */
export function renderSchema(schema) {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { buildJsonSchema } = await import('../dist/config/json-schema.js');
  const out = new URL('../schema/sightline.schema.json', import.meta.url);
  writeFileSync(out, renderSchema(buildJsonSchema()));
  process.stderr.write(`wrote ${fileURLToPath(out)}\n`);
}
