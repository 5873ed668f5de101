/**
 * A small parser for the Prometheus text exposition format (version 0.0.4; OpenMetrics lines
 * parse too, exemplars after `#` are ignored): `name{label="value",...} value [timestamp]`.
 * Comments and malformed lines are skipped; label values are unescaped (\\, \", \n).
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function parseValue(s: string): number {
  switch (s) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
    default:
      return s === '' ? NaN : Number(s);
  }
}

/** Labels from index `i` (just after `{`): the labels and the index after `}`, or null. */
function parseLabels(line: string, i: number): { labels: Record<string, string>; end: number } | null {
  const labels: Record<string, string> = {};
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const eq = line.indexOf('=', i);
    if (eq < 0 || line[eq + 1] !== '"') return null;
    const key = line.slice(i, eq).trim();
    let v = '';
    let j = eq + 2;
    for (; j < line.length; j++) {
      const c = line[j];
      if (c === '\\') {
        const n = line[++j];
        v += n === 'n' ? '\n' : (n ?? '');
      } else if (c === '"') break;
      else v += c;
    }
    if (j >= line.length) return null;
    labels[key] = v;
    i = j + 1;
  }
}

export function parsePromText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    let name: string;
    let labels: Record<string, string> = {};
    let rest: string;
    if (brace >= 0 && (space < 0 || brace < space)) {
      name = line.slice(0, brace);
      const l = parseLabels(line, brace + 1);
      if (l === null) continue;
      labels = l.labels;
      rest = line.slice(l.end);
    } else {
      if (space < 0) continue;
      name = line.slice(0, space);
      rest = line.slice(space);
    }
    const value = parseValue(rest.trim().split(/\s+/)[0] ?? '');
    if (name === '' || Number.isNaN(value)) continue;
    out.push({ name, labels, value });
  }
  return out;
}

/** `le` label → seconds (`+Inf` → Infinity); NaN when missing. */
export function leOf(labels: Readonly<Record<string, string>>): number {
  const le = labels.le;
  return le === undefined ? NaN : parseValue(le);
}
