/** `*` patterns (domains, client IPs, paths, header values) compiled to anchored regular expressions. */

/** `*` matches any run of `anyChar`; every other character stands for itself. */
export function globRegExp(pattern: string, anyChar = '.', flags = ''): RegExp {
  const src = pattern
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join(`${anyChar}*`);
  return new RegExp(`^${src}$`, flags);
}

/** A matcher for one pattern: string equality without `*`, a regular expression with it. */
export function globMatcher(pattern: string): (value: string) => boolean {
  if (pattern === '*') return () => true;
  if (!pattern.includes('*')) return (v) => v === pattern;
  const re = globRegExp(pattern);
  return (v) => re.test(v);
}
