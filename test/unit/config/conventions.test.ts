/** DESIGN §2.7: every default in the configuration schema carries a one-line reason above it. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const files = ['schema.ts', 'route-schema.ts'];

const indent = (line: string): number => line.length - line.trimStart().length;

/**
 * A default's reason is a comment right above the default's line, above another link of its chain,
 * or above the property (`key:`) the chain belongs to: the nearest line above indented less than a
 * chained `.default(`. Lines inside the chain's wrapped arguments are passed over, so the check does
 * not depend on how the formatter breaks lines.
 */
function undocumentedDefaults(source: string): string[] {
  const lines = source.split('\n');
  const missing: string[] = [];
  lines.forEach((line, i) => {
    if (!/\.(default|prefault)\(/.test(line)) return;
    const chained = line.trim().startsWith('.');
    for (let j = i; j >= 0; j--) {
      const here = lines[j]!;
      const link = j === i || (indent(here) === indent(line) && here.trim().startsWith('.'));
      const key = j < i && indent(here) < indent(line);
      if ((link || key) && (lines[j - 1] ?? '').trim().startsWith('//')) return;
      if (!chained || key) break;
    }
    missing.push(`${i + 1}: ${line.trim()}`);
  });
  return missing;
}

describe('config schema conventions', () => {
  it.each(files)('%s: every default has a reason comment', async (name) => {
    const source = await readFile(fileURLToPath(new URL(`../../../src/config/${name}`, import.meta.url)), 'utf8');
    expect(source).toMatch(/\.default\(/);
    expect(undocumentedDefaults(source)).toEqual([]);
  });

  it('the checker notices a default without a comment', () => {
    expect(
      undocumentedDefaults('const a = {\n  // why\n  x: z.number().default(1),\n  y: z.number().default(2),\n};'),
    ).toEqual(['4: y: z.number().default(2),']);
  });

  it('finds the property of a chained default, whatever the wrapping in between', () => {
    const wrapped = [
      'const a = {',
      '  // why',
      '  x: z',
      '    .union([',
      '      z.number(),',
      "      z.literal('auto'),",
      '    ])',
      '    .default(1),',
      '  y: z',
      '    .union([z.number(), z.string()])',
      '    .default(2),',
      '};',
    ].join('\n');
    expect(undocumentedDefaults(wrapped)).toEqual(['11: .default(2),']);
  });
});
