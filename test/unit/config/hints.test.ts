import { describe, expect, it } from 'vitest';
import { editDistance, unknownKeyHint, validKeysAt } from '../../../src/config/hints.js';
import { optionsSchema } from '../../../src/config/schema.js';
import { formatPath } from '../../../src/config/issues.js';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and swaps', () => {
    expect(editDistance('domain', 'domains')).toBe(1);
    expect(editDistance('domian', 'domains')).toBe(2);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('Domains', 'domains')).toBe(0);
  });
});

describe('unknownKeyHint', () => {
  it('suggests within max(2, len/3) and lists keys otherwise', () => {
    expect(unknownKeyHint('inactivityTimout', ['inactivityTimeout', 'socketTimeout'])).toBe(
      'did you mean "inactivityTimeout"?',
    );
    expect(unknownKeyHint('prot', ['port', 'host'])).toBe('did you mean "port"?');
    expect(unknownKeyHint('xyz', ['port', 'host'])).toBe('valid keys: port, host');
    expect(unknownKeyHint('x', [])).toBeUndefined();
    const many = Array.from({ length: 12 }, (_, i) => `longkey${i}`);
    expect(unknownKeyHint('zzzzzzzzzzzzzzz', many)).toBe(
      'valid keys: longkey0, longkey1, longkey2, longkey3, longkey4, longkey5, longkey6, longkey7, … (4 more)',
    );
  });
});

describe('validKeysAt', () => {
  it('walks defaults, arrays and unions of the options schema', () => {
    expect(validKeysAt(optionsSchema, ['routes', 0, 'match'])).toEqual([
      'ports',
      'domains',
      'clientIp',
      'tlsVersion',
      'path',
      'pathCaseInsensitive',
      'headers',
    ]);
    expect(validKeysAt(optionsSchema, ['telemetry', 'tracing'])).toEqual(['enabled', 'segmentLength']);
    expect(validKeysAt(optionsSchema, ['routes', 3, 'match', 'ports', 1])).toEqual(['from', 'to']);
    expect(validKeysAt(optionsSchema, ['routes', 0, 'action', 'tls', 'certificate'])).toEqual([
      'key',
      'cert',
      'ca',
      'keyFile',
      'certFile',
      'caFile',
    ]);
    expect(validKeysAt(optionsSchema, ['nope'])).toEqual([]);
  });
});

describe('formatPath', () => {
  it('formats indices, identifiers and other keys', () => {
    expect(formatPath([])).toBe('');
    expect(formatPath(['routes', 0, 'match', 'ports'])).toBe('routes[0].match.ports');
    expect(formatPath(['routes', 0, 'match', 'headers', 'x-trace-id'])).toBe('routes[0].match.headers["x-trace-id"]');
  });
});
