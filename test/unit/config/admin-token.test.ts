/** `admin.tokenFile`: the admin token from a file (a mounted Secret), read and checked at load. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.js';
import { validateOptions } from '../../../src/config/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'sightline-token-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const routes = [
  { name: 'r', match: { ports: 1 }, action: { type: 'forward', target: { host: '127.0.0.1', port: 2 } } },
];

function issuesOf(admin: Record<string, unknown>): string[] {
  try {
    validateOptions({ routes, admin });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

describe('admin.tokenFile', () => {
  it('reads the token (whitespace around it trimmed) and lets a non-loopback admin listener start', () => {
    const o = validateOptions({ routes, admin: { host: '0.0.0.0', tokenFile: file('ok', '  s3cret-token\n') } });
    expect(o.admin?.token).toBe('s3cret-token');
  });

  it('names the key and the file when it is missing, empty, a directory, too large or holds two words', () => {
    expect(issuesOf({ tokenFile: join(dir, 'absent') })).toEqual([
      `admin.tokenFile: ${join(dir, 'absent')}: no such file`,
    ]);
    expect(issuesOf({ tokenFile: file('empty', '\n') })[0]).toMatch(/^admin\.tokenFile: .*empty/);
    expect(issuesOf({ tokenFile: dir })[0]).toMatch(/^admin\.tokenFile: .*not a regular file/);
    expect(issuesOf({ tokenFile: file('big', 'x'.repeat(5000)) })[0]).toMatch(
      /^admin\.tokenFile: .*at most 4096 bytes/,
    );
    expect(issuesOf({ tokenFile: file('two', 'a b') })[0]).toMatch(/^admin\.tokenFile: .*whitespace/);
  });

  it('is refused beside admin.token, and a remote host without either is still refused', () => {
    expect(issuesOf({ token: 't', tokenFile: file('both', 't') })).toEqual([
      'admin.tokenFile: set token or tokenFile, not both',
    ]);
    expect(issuesOf({ host: '0.0.0.0' })[0]).toMatch(/^admin\.host: .*admin\.tokenFile/);
  });
});
