import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { ALL_CLOSE_REASONS, isAbnormal } from '../../../src/core/close-reasons.js';

const doc = readFileSync(new URL('../../../docs/close-reasons.md', import.meta.url), 'utf8');
const rows = [...doc.matchAll(/^\| `([a-z_]+)` \|[^|]+\|[^|]+\| (.+) \|$/gm)].map((m) => ({ reason: m[1]!, test: /`([^`]+\.test\.ts)`/.exec(m[2]!)?.[1] ?? null }));

describe('close reasons', () => {
  it('docs/close-reasons.md lists exactly the reasons in the code', () => {
    expect(rows.map((r) => r.reason).sort()).toEqual([...ALL_CLOSE_REASONS].sort());
  });

  it('each test the table names exists and asserts that reason', () => {
    for (const r of rows) {
      if (r.test === null) continue;
      expect(existsSync(r.test), r.test).toBe(true);
      expect(readFileSync(r.test, 'utf8'), `${r.test} should assert '${r.reason}'`).toContain(`'${r.reason}'`);
    }
    // Only kernel-level socket faults are without a producing test (internal_error has the injector).
    expect(rows.filter((r) => r.test === null).map((r) => r.reason).sort()).toEqual(['backend_error', 'client_error']);
  });

  it('normal closes are not abnormal; everything else is', () => {
    expect(isAbnormal('client_closed')).toBe(false);
    expect(isAbnormal('backend_closed')).toBe(false);
    expect(isAbnormal('inactivity')).toBe(true);
    expect(isAbnormal('backend_reset')).toBe(true);
  });
});
