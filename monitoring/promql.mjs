/**
 * Small PromQL helpers shared by the generator and the tests: durations, `le` matchers that work
 * on Prometheus 2 and 3, and the metric names an expression reads (no full parser: strings,
 * label matchers, ranges and grouping clauses are stripped, what is left that is not a function,
 * keyword or number is a metric name).
 */

const UNITS = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };

/** Seconds in a Prometheus duration ('90s', '5m', '1h30m'). */
export function parseDuration(text) {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let m;
  let end = 0;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * UNITS[m[2]];
    end = re.lastIndex;
  }
  if (end !== text.length || end === 0) throw new Error(`not a Prometheus duration: ${JSON.stringify(text)}`);
  return total;
}

/** A Prometheus duration for a whole number of seconds ('1h5m', '90s' → '1m30s'). */
export function formatDuration(seconds) {
  if (!Number.isInteger(seconds) || seconds <= 0) throw new Error(`not a positive whole number of seconds: ${seconds}`);
  let rest = seconds;
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ]) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

/**
 * A matcher for one histogram bucket edge. Prometheus 3 (and 2 scraping OpenMetrics) stores
 * `le="30"` as `le="30.0"`: integers match both spellings, other values match as written.
 * The result is PromQL source (the backslash is escaped for the double-quoted string).
 */
export function leMatcher(edge) {
  const text = String(edge);
  if (!/^\d+(\.\d+)?$/.test(text)) throw new Error(`bucket edge must be a plain decimal: ${text}`);
  return Number.isInteger(edge) ? `le=~"${text}(\\\\.0)?"` : `le=~"${text.replace('.', '\\\\.')}"`;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'inf',
  'nan',
  'atan2',
]);

/** The metric names (including recording-rule names) an expression reads. */
export function metricNames(expr) {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings
    .replace(/#[^\n]*/g, ' ') // comments
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // grouping labels
    .replace(/\boffset\s+-?[0-9a-z$_]+/gi, ' ')
    .replace(/\$\{?[A-Za-z_]+\}?/g, ' '); // Grafana variables outside strings
  const names = new Set();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const after = s.slice(m.index + word.length).match(/^\s*(\S)?/)[1];
    if (after === '(') continue; // a function or aggregation
    if (KEYWORDS.has(word.toLowerCase())) continue;
    const before = s.slice(0, m.index);
    if (/[0-9.]$/.test(before)) continue; // the unit or exponent of a number (5m, 1e3)
    names.add(word);
  }
  return [...names].sort();
}
