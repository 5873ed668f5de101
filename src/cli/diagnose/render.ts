/** The diagnose report as plain text for people, or JSON for scripts (`--json`). */
import { ABNORMAL_KIND } from './abnormal.js';
import type { Report, RouteReport } from './analyse.js';

const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

function healthyLine(r: RouteReport): string {
  const parts: string[] = [];
  const top = r.closesByReason.slice(0, 3).map((c) => `${c.reason} ${c.count}`);
  if (r.closesByReason.length > 3) top.push('…');
  parts.push(r.closes === 0 ? 'no closes yet' : `${plural(r.closes, 'close')}: ${top.join(', ')}`);
  if (r.active !== null) parts.push(`${r.active} open`);
  parts.push('no disconnect pattern');
  return `route ${r.route}: healthy (${parts.join('; ')})`;
}

/** "2 disconnect patterns", "1 abnormal-close finding", or both joined. */
function findingsText(rep: Report): string {
  const abnormal = rep.routes.reduce((n, r) => n + r.findings.filter((f) => f.kind === ABNORMAL_KIND).length, 0);
  const periodic = rep.findings - abnormal;
  const parts = [
    periodic > 0 ? plural(periodic, 'disconnect pattern') : null,
    abnormal > 0 ? plural(abnormal, 'abnormal-close finding') : null,
  ];
  return parts.filter((x) => x !== null).join(' and ');
}

function about(x: number): string {
  return x < 10 ? x.toFixed(1) : String(Math.round(x));
}

export function renderText(rep: Report): string {
  const lines: string[] = [];
  const src = rep.source.kind === 'admin' ? `the admin API at ${rep.source.url}` : `Prometheus at ${rep.source.url}`;
  const meta = [
    rep.version === null ? null : `Sightline ${rep.version}`,
    rep.window === null ? 'counts since the proxy started' : `counts over the last ${rep.window}`,
  ]
    .filter((x) => x !== null)
    .join(', ');
  lines.push(`sightline diagnose: ${src} (${meta})`);
  const withPattern = rep.routes.filter((r) => r.status === 'pattern').length;
  lines.push(`${plural(rep.routes.length, 'route')}, ${withPattern} with a disconnect pattern`);
  lines.push('');
  for (const r of rep.routes) {
    if (r.status === 'healthy') {
      lines.push(healthyLine(r));
      for (const n of r.notes) lines.push(`  note: ${n}`);
      continue;
    }
    for (const f of r.findings) {
      const abnormal = f.kind === ABNORMAL_KIND;
      lines.push(`route ${r.route}: ${abnormal ? 'ABNORMAL CLOSES' : 'DISCONNECT PATTERN'} (${f.kind})`);
      lines.push(`  ${f.headline}`);
      lines.push('  evidence:');
      for (const e of f.evidence) lines.push(`    - ${e}`);
      if (f.culprits.length > 0) {
        lines.push(
          abnormal
            ? '  what those reasons mean:'
            : `  likely culprits (fingerprint table, ${about(f.periodSeconds)} s):`,
        );
        for (const c of f.culprits) lines.push(`    - ${c}`);
      } else if ((f.timersOnPath ?? []).length > 0) {
        lines.push(
          `  likely culprits: no known default at this period (${about(f.periodSeconds)} s); timers configured on this path:`,
        );
        for (const t of f.timersOnPath!) lines.push(`    - ${t}`);
      } else
        lines.push(
          `  likely culprits: no known default at this period (${about(f.periodSeconds)} s): a timer specific to this deployment`,
        );
      lines.push('  what to check:');
      for (const c of f.checks) lines.push(`    - ${c}`);
      lines.push('');
    }
  }
  if (lines[lines.length - 1] !== '') lines.push('');
  lines.push(
    rep.findings === 0
      ? 'result: no disconnect pattern (exit 0)'
      : `result: ${findingsText(rep)} on ${plural(rep.routes.filter((r) => r.status === 'pattern').length, 'route')} (exit 1)`,
  );
  return `${lines.join('\n')}\n`;
}

export function renderJson(rep: Report): string {
  return `${JSON.stringify(rep, null, 2)}\n`;
}
