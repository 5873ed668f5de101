/**
 * The layer rule of DESIGN §1 is enforced by lint, not review: prove the rule bites at every
 * boundary, for every import form, and that a src file in no layer fails (the rule fails closed).
 * Planted files are linted as text under paths that do not exist; nothing is written to src/.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

/** DESIGN §1, lowest first. Kept here by hand: the rule's own list must agree with it. */
const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['config', 'protocol'],
  ['routing', 'security'],
  ['net'],
  ['proxy'],
  ['telemetry'],
  ['admin'],
  ['cli', 'demo', 'server.ts', 'index.ts'],
];

const RULE = 'sightline/layers';
const eslint = new ESLint({ cwd: process.cwd() });

/** The layer rule's messages for `code` linted as `file`; a parse error fails the test instead of passing silently. */
async function layerMessages(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: file });
  const messages = r?.messages ?? [];
  expect(messages.filter((m) => m.fatal)).toEqual([]);
  return messages.filter((m) => m.ruleId === RULE).map((m) => m.message);
}

/** The specifier that reaches a module of layer member `name` from a file `depth` directories below src/. */
function specifier(name: string, depth: number): string {
  const up = '../'.repeat(depth);
  return name.endsWith('.ts') ? `${up}${name.replace(/\.ts$/, '.js')}` : `${up}${name}/planted-target.js`;
}

/** Every (importer directory, target member) pair where the target is in a higher layer. */
const upward = LAYERS.flatMap((members, level) =>
  members
    .filter((m) => !m.endsWith('.ts'))
    .flatMap((dir) => LAYERS.slice(level + 1).flatMap((higher) => higher.map((target) => ({ dir, target })))),
);

/** Every (importer directory, target member) pair where the target is in the same or a lower layer. */
const allowed = LAYERS.flatMap((members, level) =>
  members
    .filter((m) => !m.endsWith('.ts'))
    .flatMap((dir) => LAYERS.slice(0, level + 1).flatMap((lower) => lower.map((target) => ({ dir, target })))),
);

function srcFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? srcFiles(join(dir, e.name)) : /\.[mc]?[jt]s$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

describe('layer rule', () => {
  it('covers every boundary of DESIGN §1 (the test enumerates the boundaries, so it must be a real list)', () => {
    expect(upward.length).toBeGreaterThan(60);
    expect(upward).toContainEqual({ dir: 'net', target: 'server.ts' });
    expect(upward).toContainEqual({ dir: 'admin', target: 'demo' });
  });

  it('refuses an import from every layer into every higher layer, root files and demo/ included', async () => {
    const missed: string[] = [];
    for (const { dir, target } of upward) {
      const spec = specifier(target, 1);
      const got = await layerMessages(`src/${dir}/planted.ts`, `import { x } from '${spec}';\nexport const y = x;\n`);
      if (got.length !== 1) missed.push(`src/${dir} -> ${spec}: ${got.length} errors`);
    }
    expect(missed).toEqual([]);
  });

  it('refuses it from a subdirectory, and for re-exports, type imports and dynamic imports', async () => {
    const cases = [
      ['src/telemetry/sub/planted.ts', "import { x } from '../../admin/server.js';\nexport const y = x;\n"],
      ['src/net/planted.ts', "export { adminSource } from '../admin/proxy-source.js';\n"],
      ['src/net/planted.ts', "export * as t from '../telemetry/metrics.js';\n"],
      [
        'src/proxy/planted.ts',
        "import type { Telemetry } from '../telemetry/telemetry.js';\nexport type T = Telemetry;\n",
      ],
      ['src/core/planted.ts', "export async function f() {\n  return import('../net/dispatch.js');\n}\n"],
      ['src/routing/planted.ts', "export type T = import('../proxy/http-session.js').HttpSession;\n"],
    ];
    for (const [file, code] of cases) expect(await layerMessages(file!, code!), `${file}: ${code}`).toHaveLength(1);
  });

  it('names the file, both layers and the specifier', async () => {
    const [message] = await layerMessages(
      'src/net/planted.ts',
      "import { x } from '../server.js';\nexport const y = x;\n",
    );
    expect(message).toContain('src/net/planted.ts');
    expect(message).toContain('(layer 3: net)');
    expect(message).toContain('../server.js');
    expect(message).toContain('layer 7: cli, demo, server.ts, index.ts');
  });

  it('allows imports from the same or a lower layer, and packages', async () => {
    const refused: string[] = [];
    for (const { dir, target } of allowed) {
      const spec = specifier(target, 1);
      const got = await layerMessages(`src/${dir}/planted.ts`, `import { x } from '${spec}';\nexport const y = x;\n`);
      if (got.length !== 0) refused.push(`src/${dir} -> ${spec}: ${got.join('; ')}`);
    }
    expect(refused).toEqual([]);
    const admin =
      "import { startAdmin } from './server.js';\nimport { z } from 'zod';\nexport const y = [startAdmin, z];\n";
    expect(await layerMessages('src/admin/planted.ts', admin), 'admin/server.ts is not the root server.ts').toEqual([]);
    expect(
      await layerMessages('src/cli/cluster/planted.ts', "import { x } from '../server.js';\nexport const y = x;\n"),
    ).toEqual([]);
  });

  it('fails closed: a src file in no layer is an error, a root file or a new directory alike', async () => {
    const code = "import { CloseReason } from './core/close-reasons.js';\nexport const y = CloseReason;\n";
    expect(await layerMessages('src/admin-source.ts', code)).toEqual([
      expect.stringContaining('src/admin-source.ts is in no layer'),
    ]);
    expect(await layerMessages('src/modes/planted.ts', `export const y = 1;\n`)).toEqual([
      expect.stringContaining('in no layer'),
    ]);
    // Any source extension: a .mjs under src/ is layered (or refused) like a .ts.
    expect(await layerMessages('src/planted.mjs', `export const y = 1;\n`)).toEqual([
      expect.stringContaining('in no layer'),
    ]);
    expect(await layerMessages('src/net/planted.mjs', "export { x } from '../admin/server.js';\n")).toHaveLength(1);
    expect(
      await layerMessages('test/unit/planted.ts', "import { x } from '../../src/server.js';\nexport const y = x;\n"),
    ).toEqual([]);
  });

  it('every file in src/ is in a layer (lists the ones that are not)', async () => {
    const unlayered: string[] = [];
    for (const file of srcFiles(join(process.cwd(), 'src'))) {
      const got = await layerMessages(relative(process.cwd(), file), 'export {};\n');
      if (got.some((m) => m.includes('in no layer'))) unlayered.push(relative(process.cwd(), file));
    }
    expect(unlayered).toEqual([]);
  });
});
