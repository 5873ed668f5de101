#!/usr/bin/env node
// docs/configuration.md from the one configuration schema, so the reference cannot drift:
// every key with its type, its default and the reason for the default.
//
// - Keys, types, defaults and descriptions (`.describe()`) come from the JSON Schema that
//   src/config/json-schema.ts builds from the zod schema (the same one the committed
//   schema/sightline.schema.json is).
// - The reasons are the comments above each key in src/config/schema.ts and route-schema.ts
//   (those files' rule: "every default carries its reason on the line above it"). They are read
//   with the TypeScript parser: each `z.strictObject({...})` literal is matched to the JSON Schema
//   object with the same set of keys, so no path bookkeeping is needed and a moved section keeps
//   its comments.
//
// `npm run schema` rewrites the page (with schema/sightline.schema.json) from dist/;
// test/unit/config/configuration-doc.test.ts renders it from src/ and compares, and fails when a
// key with a default has no reason.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const SCHEMA_SOURCES = ['src/config/schema.ts', 'src/config/route-schema.ts'];

// Comments that describe the schema's mechanics, not the option: left out of the page.
const MECHANICS = [/^Section optional; present after parsing\.?$/];

/** Comment text of the `//` / block comments in `text` between `pos` and `end`, joined. */
function commentsIn(text, pos, end) {
  const out = [];
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text.slice(pos, end));
  for (let k = scanner.scan(); k !== ts.SyntaxKind.EndOfFileToken; k = scanner.scan()) {
    if (k === ts.SyntaxKind.SingleLineCommentTrivia) out.push(scanner.getTokenText().replace(/^\/\/\s?/, ''));
    else if (k === ts.SyntaxKind.MultiLineCommentTrivia) {
      out.push(
        scanner
          .getTokenText()
          .replace(/^\/\*+|\*+\/$/g, '')
          .split('\n')
          .map((l) => l.replace(/^\s*\*\s?/, ''))
          .join(' '),
      );
    }
  }
  return out.join(' ').replace(/\s+/g, ' ').trim();
}

/**
 * Every object literal passed to `strictObject` / `object` in the sources: its sorted key set and,
 * per key, the comments above the key and inside its value outside nested object literals.
 */
export function collectReasons(sources) {
  const objects = [];
  for (const text of sources) {
    const file = ts.createSourceFile('schema.ts', text, ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        ['strictObject', 'object', 'looseObject'].includes(node.expression.name.text) &&
        node.arguments[0] &&
        ts.isObjectLiteralExpression(node.arguments[0])
      ) {
        const reasons = new Map();
        for (const p of node.arguments[0].properties) {
          if (!ts.isPropertyAssignment(p) || !p.name) continue;
          const key = p.name.getText(file).replace(/^['"]|['"]$/g, '');
          const parts = [commentsIn(text, p.getFullStart(), p.getStart(file))];
          // Comments inside a chained value (`z // reason\n .strictObject(...)`), but not those of
          // a nested object literal's own keys: scan the value's text around its object literals.
          const nested = [];
          const walk = (n) => {
            if (ts.isObjectLiteralExpression(n)) nested.push([n.getStart(file), n.getEnd()]);
            else ts.forEachChild(n, walk);
          };
          walk(p.initializer);
          let from = p.initializer.getStart(file);
          for (const [a, b] of nested) {
            parts.push(commentsIn(text, from, a));
            from = b;
          }
          parts.push(commentsIn(text, from, p.initializer.getEnd()));
          const sentences = parts
            .filter(Boolean)
            .join(' ')
            .split(/(?<=\.)\s+/)
            .filter((s) => !MECHANICS.some((re) => re.test(s.trim())));
          reasons.set(key, [...new Set(sentences)].join(' ').trim());
        }
        objects.push({ keys: [...reasons.keys()].sort().join(','), reasons });
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return objects;
}

/** A JSON Schema node's type, in words. */
function typeOf(node) {
  if (!node || typeof node !== 'object') return 'any';
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  if (node.enum) return node.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (node.anyOf) return [...new Set(node.anyOf.map(typeOf))].join(' \\| ');
  if (node.type === 'array') return `array of ${typeOf(node.items)}`;
  if (node.type === 'integer') return 'integer';
  if (node.type === 'object') return node.properties ? 'object' : 'map of string';
  if (node.type) return String(node.type);
  return node.description?.includes('function') ? 'function (library only)' : 'any';
}

/** Every documented key: [{ path, node, required }] in schema order, sections before their keys. */
function rows(node, path, required, reasonsFor, out) {
  if (node.properties) {
    const reasons = reasonsFor(Object.keys(node.properties));
    for (const [key, child] of Object.entries(node.properties)) {
      const p = path ? `${path}.${key}` : key;
      out.push({
        path: p,
        node: child,
        required: (node.required ?? []).includes(key),
        reason: reasons?.get(key) ?? '',
      });
      rows(child, p, false, reasonsFor, out);
    }
  }
  if (node.items) rows(node.items, `${path}[]`, false, reasonsFor, out);
  if (node.anyOf) {
    // Object branches of a union (port ranges, certificate forms): their keys under the same path.
    for (const branch of node.anyOf) if (branch.properties || branch.items) rows(branch, path, false, reasonsFor, out);
  }
  return out;
}

// Pointers into the project's design notes mean nothing to a reader of this page; those into the
// compatibility page become links.
const cell = (s) =>
  String(s)
    .replace(/\s*\(DESIGN §[\d.]+\)/g, '')
    .replace(/DESIGN §[\d.]+:?\s*/g, '')
    .replace(/compat §(\d)/g, '[compat §$1](compat.md)')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');

function defaultOf(node) {
  if (node.default === undefined) return '—';
  const d = node.default;
  if (typeof d === 'object' && d !== null && !Array.isArray(d) && Object.keys(d).length === 0) return 'section';
  let text = `\`${JSON.stringify(d)}\``;
  // Durations are milliseconds: say what a large one is.
  if (typeof d === 'number' && d >= 1000 && (node.type === 'integer' || node.type === 'number')) {
    const human = [
      [604_800_000, 'd', 86_400_000],
      [3_600_000, 'h'],
      [60_000, 'min'],
      [1000, 's'],
    ];
    if (/Timeout|Interval|Grace|Threshold|Lifetime|Delay|Length/i.test(node.__key ?? '')) {
      for (const [unit, name, div] of human) {
        if (d >= unit && d % (div ?? unit) === 0) {
          text += ` (${d / (div ?? unit)} ${name})`;
          break;
        }
      }
    }
  }
  return text;
}

/** The page for a JSON Schema and the schema sources' text. */
export function renderConfigDoc(schema, sources) {
  const objects = collectReasons(sources);
  const reasonsFor = (keys) => objects.find((o) => o.keys === [...keys].sort().join(','))?.reasons;
  const all = rows(schema, '', schema.required, reasonsFor, []);
  let out = `# Configuration reference

Every option of Sightline, as the library's options object and as the configuration file
(\`sightline start -c FILE\`, YAML or JSON of the same shape). Durations are whole milliseconds;
\`0\` means "unlimited" or "never" where a row says so. Unknown keys are refused with the key's
path and a hint (\`npx sightline check -c FILE\`). Editors complete and check files against
\`schema/sightline.schema.json\` (first line of a YAML file:
\`# yaml-language-server: $schema=../schema/sightline.schema.json\`).

Generated from the zod schema (\`src/config/schema.ts\`, \`src/config/route-schema.ts\`) by
\`npm run schema\` (\`scripts/gen-config-doc.mjs\`): the types and defaults are the schema's, the
"why" column is the comment above each key in those files.
\`test/unit/config/configuration-doc.test.ts\` keeps this page in step and fails when a key with a
default has no reason. A "section" default means the object may be left out and is filled with its
keys' defaults. Where a reason says "the reference", it means the proxy whose option names and
defaults Sightline keeps, so that its users can move over by changing the import
([compat.md](compat.md)).

`;
  const named = [
    ['Routes', (p) => p.startsWith('routes')],
    ['Lifecycle', (p) => p.startsWith('lifecycle')],
    ['HTTP', (p) => p === 'http' || p.startsWith('http.')],
    ['Defaults for unmatched connections and global security', (p) => p.startsWith('defaults')],
    ['Admin listener', (p) => p.startsWith('admin')],
    ['Telemetry', (p) => p.startsWith('telemetry')],
  ];
  // Everything no named section takes (top-level keys and small sections such as drain), so a new
  // key can never be left off the page.
  const sections = [['Listeners, timeouts and limits', (p) => !named.some(([, pick]) => pick(p))], ...named];
  for (const [title, pick] of sections) {
    const mine = all.filter((r) => pick(r.path));
    if (mine.length === 0) continue;
    out += `## ${title}\n\n| key | type | default | meaning, and why this default |\n|---|---|---|---|\n`;
    for (const r of mine) {
      r.node.__key = r.path.split('.').pop();
      const meaning = [r.node.description, r.reason].filter(Boolean).join(' ');
      const req = r.required ? ' (required)' : '';
      out += `| \`${r.path}\`${req} | ${typeOf(r.node)} | ${defaultOf(r.node)} | ${cell(meaning)} |\n`;
      delete r.node.__key;
    }
    out += '\n';
  }
  return out;
}

/** Keys that have a default but no reason (the test fails on any). */
export function keysWithoutReason(schema, sources) {
  const objects = collectReasons(sources);
  const reasonsFor = (keys) => objects.find((o) => o.keys === [...keys].sort().join(','))?.reasons;
  return rows(schema, '', schema.required, reasonsFor, [])
    .filter((r) => r.node.default !== undefined && !r.node.properties && !r.reason)
    .map((r) => r.path);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { buildJsonSchema } = await import('../dist/config/json-schema.js');
  const root = new URL('../', import.meta.url);
  const sources = SCHEMA_SOURCES.map((f) => readFileSync(new URL(f, root), 'utf8'));
  const out = new URL('docs/configuration.md', root);
  writeFileSync(out, renderConfigDoc(buildJsonSchema(), sources));
  process.stderr.write(`wrote ${fileURLToPath(out)}\n`);
}
