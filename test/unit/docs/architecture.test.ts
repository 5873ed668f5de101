/**
 * docs/architecture.md stays true: every source file it names exists, and the two paths it walks
 * (one passthrough connection, one HTTP request) stay within their budgets of files to open.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');

/** The numbered steps under the `## heading`, each with the source files it names. */
function steps(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start === -1) return [];
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/^\d+\. (.*(?:\n {3,}.*)*)/gm)].map((m) =>
    [...m[1]!.matchAll(/`(src\/[^`]+\.ts)`/g)].map((f) => f[1]!),
  );
}

/** The file a step is about: the first one it names. */
const pathOf = (markdown: string, heading: string): string[] =>
  steps(markdown, heading).map((s) => s[0] ?? '(no file)');

describe('docs/architecture.md', () => {
  it('names only source files that exist', () => {
    const named = [...new Set([...doc.matchAll(/`(src\/[^`]+\.ts)`/g)].map((m) => m[1]!))];
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((f) => !existsSync(join(ROOT, f)))).toEqual([]);
  });

  it('a passthrough connection: at most 8 files, each named once', () => {
    const path = pathOf(doc, 'One passthrough connection, file by file');
    expect(path.length).toBeGreaterThan(0);
    expect(path.length).toBeLessThanOrEqual(8);
    expect(new Set(path).size).toBe(path.length);
    expect(path).toContain('src/proxy/tunnel.ts');
  });

  it('an HTTP request: at most 12 files, each named once', () => {
    const path = pathOf(doc, 'One HTTP request, file by file');
    expect(path.length).toBeGreaterThan(0);
    expect(path.length).toBeLessThanOrEqual(12);
    expect(new Set(path).size).toBe(path.length);
    expect(path).toContain('src/proxy/http-session.ts');
  });

  it('the budget check can fail', () => {
    const nine = Array.from({ length: 9 }, (_, i) => `${i + 1}. \`src/x${i}.ts\`: step`).join('\n');
    const fake = `# A\n\n## One passthrough connection, file by file\n\n${nine}\n\n## Next\n`;
    expect(pathOf(fake, 'One passthrough connection, file by file')).toHaveLength(9);
  });
});
