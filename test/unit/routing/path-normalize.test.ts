/**
 * The path routing matches and the backend receives (issue 10 point 3): one row per spelling,
 * including every bypass of an `/admin*` route the issue lists.
 */
import { describe, expect, it } from 'vitest';
import { normalizePath, parseTarget, type PathPolicy } from '../../../src/routing/path-normalize.js';

const STRICT: PathPolicy = { escapedSlashes: 'reject', pathParameters: 'reject' };
const KEEP: PathPolicy = { escapedSlashes: 'keep', pathParameters: 'keep' };
const DECODE: PathPolicy = { escapedSlashes: 'decode', pathParameters: 'strip' };

/** [raw path, default policy (reject), keep/keep, decode/strip]; `!` marks a refusal. */
const TABLE: ReadonlyArray<readonly [string, string, string, string]> = [
  // The spellings of /admin/x from the issue.
  ['/admin/x', '/admin/x', '/admin/x', '/admin/x'],
  ['/%61dmin/x', '/admin/x', '/admin/x', '/admin/x'],
  ['//admin/x', '/admin/x', '/admin/x', '/admin/x'],
  ['/./admin/x', '/admin/x', '/admin/x', '/admin/x'],
  ['/x/../admin/x', '/admin/x', '/admin/x', '/admin/x'],
  ['/%2e/admin/x', '/admin/x', '/admin/x', '/admin/x'],
  ['/%2E%2E/admin/x', '/admin/x', '/admin/x', '/admin/x'],
  ['/x/%2e%2e/admin/x', '/admin/x', '/admin/x', '/admin/x'],
  ['/;/admin/x', '!', '/;/admin/x', '/admin/x'],
  ['/admin;jsessionid=1/x', '!', '/admin;jsessionid=1/x', '/admin/x'],
  ['/ADMIN/x', '/ADMIN/x', '/ADMIN/x', '/ADMIN/x'], // case: per route (pathCaseInsensitive)
  // Escaped separators.
  ['/admin%2Fx', '!', '/admin%2Fx', '/admin/x'],
  ['/admin%2fx', '!', '/admin%2Fx', '/admin/x'],
  ['/admin%5Cx', '!', '/admin%5Cx', '/admin/x'],
  ['/admin\\x', '!', '/admin\\x', '/admin/x'],
  ['/x/..%2Fadmin', '!', '/x/..%2Fadmin', '/admin'],
  // Dot-segments (RFC 3986 §5.2.4 examples, rooted) and never above the root.
  ['/a/b/c/./../../g', '/a/g', '/a/g', '/a/g'],
  ['/mid/content=5/../6', '/mid/6', '/mid/6', '/mid/6'],
  ['/..', '/', '/', '/'],
  ['/../../etc/passwd', '/etc/passwd', '/etc/passwd', '/etc/passwd'],
  ['/a/.', '/a/', '/a/', '/a/'],
  ['/a/..', '/', '/', '/'],
  ['/a/b/', '/a/b/', '/a/b/', '/a/b/'],
  ['/a//b///c', '/a/b/c', '/a/b/c', '/a/b/c'],
  ['/a.b/.c/..d', '/a.b/.c/..d', '/a.b/.c/..d', '/a.b/.c/..d'],
  ['/', '/', '/', '/'],
  // Escapes: unreserved decoded, others kept upper-cased, malformed refused.
  ['/%7Euser/%41%2d%5f', '/~user/A-_', '/~user/A-_', '/~user/A-_'],
  ['/a%20b/%c3%a9', '/a%20b/%C3%A9', '/a%20b/%C3%A9', '/a%20b/%C3%A9'],
  ['/a%00b', '/a%00b', '/a%00b', '/a%00b'],
  ['/a%2', '!', '!', '!'],
  ['/a%zz', '!', '!', '!'],
  ['/a#frag', '!', '!', '!'],
];

describe('normalizePath', () => {
  for (const [raw, strict, keep, decode] of TABLE) {
    it(`${raw} → ${strict} | ${keep} | ${decode}`, () => {
      for (const [policy, want] of [
        [STRICT, strict],
        [KEEP, keep],
        [DECODE, decode],
      ] as const) {
        const got = normalizePath(raw, policy);
        if (want === '!') expect(typeof got, JSON.stringify(policy)).toBe('object');
        else expect(got, JSON.stringify(policy)).toBe(want);
      }
    });
  }

  it('is idempotent: a normalised path normalises to itself', () => {
    for (const [raw] of TABLE) {
      const once = normalizePath(raw, DECODE);
      if (typeof once === 'string') expect(normalizePath(once, DECODE)).toBe(once);
    }
  });
});

describe('parseTarget', () => {
  it('keeps the query, rewrites only the path, and leaves clean targets as they are', () => {
    expect(parseTarget('/api/v1.0/users?x=/../y', STRICT)).toEqual({
      authority: null,
      path: '/api/v1.0/users',
      target: '/api/v1.0/users?x=/../y',
    });
    expect(parseTarget('//a/./b?q=%2F', STRICT)).toEqual({ authority: null, path: '/a/b', target: '/a/b?q=%2F' });
    expect(parseTarget('*', STRICT)).toEqual({ authority: null, path: '/', target: '*' });
  });

  it('takes an absolute-form target apart: its authority is the host', () => {
    expect(parseTarget('http://Internal.Test/x/../admin?a', STRICT)).toEqual({
      authority: 'internal.test',
      path: '/admin',
      target: '/admin?a',
    });
    expect(parseTarget('HTTPS://h.test:8443', STRICT)).toEqual({ authority: 'h.test:8443', path: '/', target: '/' });
    expect(parseTarget('http://[::1]:80/p', STRICT)).toEqual({ authority: '[::1]:80', path: '/p', target: '/p' });
    for (const bad of ['ftp://h.test/', 'http://user@h.test/', 'http:///x', 'http://h.test/a#f'])
      expect(parseTarget(bad, STRICT), bad).toHaveProperty('error');
  });
});
