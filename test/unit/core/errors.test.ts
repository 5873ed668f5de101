import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ErrorCodes, SightlineError, ConfigError } from '../../../src/core/errors.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const rows = new Map(
  [...doc.matchAll(/^\| `(SL_ERR_[A-Z_]+)` \|[^|]*\| ([^|]+) \| (\d+) \|$/gm)].map((m) => [
    m[1]!,
    { reason: m[2]!.trim().replace(/`/g, ''), exit: Number(m[3]) },
  ]),
);

describe('error registry', () => {
  it('docs/errors.md lists every code with its close reason and exit code, and nothing else', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(ErrorCodes).sort());
    for (const [code, info] of Object.entries(ErrorCodes)) {
      const row = rows.get(code)!;
      expect(row.reason, code).toBe(info.closeReason ?? '—');
      expect(row.exit, code).toBe(info.exitCode);
    }
  });

  it('errors carry their code and a message that names the cause', () => {
    const e = new SightlineError('SL_ERR_LISTEN', 'port 443: EADDRINUSE');
    expect(e.code).toBe('SL_ERR_LISTEN');
    expect(e.message).toBe('cannot listen on a configured port: port 443: EADDRINUSE');
    expect(e.exitCode).toBe(2);
    const c = new ConfigError([
      { path: 'routes[0].match', message: 'unknown key "domain"', hint: 'did you mean "domains"?' },
    ]);
    expect(c.code).toBe('SL_ERR_CONFIG_INVALID');
    expect(c.message).toContain('routes[0].match: unknown key "domain" (did you mean "domains"?)');
  });
});
