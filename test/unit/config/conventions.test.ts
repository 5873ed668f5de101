/** DESIGN §2.7: every default in the configuration schema carries a one-line reason above it. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const files = ['schema.ts', 'route-schema.ts'];

function undocumentedDefaults(source: string): string[] {
  const lines = source.split('\n');
  const missing: string[] = [];
  lines.forEach((line, i) => {
    if (!/\.(default|prefault)\(/.test(line)) return;
    for (let j = i; j > 0; j--) {
      if ((lines[j - 1] ?? '').trim().startsWith('//')) return;
      if (!(lines[j] ?? '').trim().startsWith('.')) break;
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
    expect(undocumentedDefaults('const a = {\n  // why\n  x: z.number().default(1),\n  y: z.number().default(2),\n};')).toEqual([
      '4: y: z.number().default(2),',
    ]);
  });
});
