/**
 * The repository stands alone and its documentation holds together: nothing a user or a test
 * runs points outside the clone (the parent folder's `shared/`), user-facing text has no project-history jargon,
 * every relative link and in-page anchor of the README and docs/ resolves, and the Prometheus
 * scrape job of docs/grafana.md passes `promtool check config`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { needCommand, skipped, titled } from '../../helpers/needs.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

/** Files under `rel` (recursively), skipping generated and third-party trees. */
function filesUnder(rel: string, skip = /(^|\/)(node_modules|dist|results|\.git|coverage)(\/|$)/): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const p = dir === '.' ? name : `${dir}/${name}`;
      if (skip.test(p)) continue;
      if (statSync(join(ROOT, p)).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  if (statSync(join(ROOT, rel)).isDirectory()) walk(rel);
  else out.push(rel);
  return out;
}

const TEXT = /\.(md|ts|mts|mjs|js|sh|ya?ml|json|lua)$|(^|\/)run$/;

describe('self-contained', () => {
  it("nothing in the README, docs, scripts, tests, benchmarks, examples or sources needs the parent folder's shared/", () => {
    const files = [
      'README.md',
      'package.json',
      'docs',
      'scripts',
      'test',
      'bench',
      'examples',
      'src',
      'monitoring',
      'deploy',
    ]
      .flatMap((d) => filesUnder(d))
      .filter((f) => TEXT.test(f) && f !== 'test/unit/docs/docs.test.ts');
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.filter((f) => /\.\.\/shared\b|\/work\/shared\b|SHARED_BENCH/.test(read(f)));
    expect(offenders).toEqual([]);
  });

  it('the benchmark harness is in the repository (bench/lib) and run.sh uses it', () => {
    for (const f of [
      'bench/lib/cli.mjs',
      'bench/lib/driver.mjs',
      'bench/lib/proxies.mjs',
      'bench/lib/proxies/node-naive.mjs',
      'bench/lib/wrk/report.lua',
    ]) {
      expect(existsSync(join(ROOT, f)), f).toBe(true);
    }
    expect(read('bench/run.sh')).toContain('HARNESS="$HERE/lib"');
    const help = spawnSync('bash', ['bench/run.sh', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/--proxies a,b +subset of: direct,haproxy,nginx,node,sightline/);
  });
});

describe('user-facing text', () => {
  // "seed" was this project's name for the guide it started from; users never saw that guide.
  const JARGON = /\bseed\b(?!-)|seed guide|the seed's/i;

  it('README, docs and examples say what they mean, without project-history jargon', () => {
    const files = ['README.md', ...filesUnder('docs'), ...filesUnder('examples'), 'bench/README.md'].filter((f) =>
      /\.(md|ya?ml)$/.test(f),
    );
    const hits = files
      .flatMap((f) =>
        read(f)
          .split('\n')
          .map((l, i) => [f, i + 1, l] as const),
      )
      .filter(([, , l]) => JARGON.test(l));
    expect(hits.map(([f, n, l]) => `${f}:${n}: ${l.trim()}`)).toEqual([]);
  });

  it('the CLI help and the demo say what they mean', () => {
    const bin = join(ROOT, 'bin/sightline.js');
    for (const args of [['--help'], ['demo', '--help'], ['diagnose', '--help'], ['start', '--help']]) {
      const r = spawnSync(process.execPath, [bin, ...args], { cwd: ROOT, encoding: 'utf8' });
      expect(`${r.stdout}${r.stderr}`, args.join(' ')).not.toMatch(JARGON);
      expect(r.stdout.length, args.join(' ')).toBeGreaterThan(20);
    }
    const demoSources = filesUnder('src/demo').map(read).join('\n');
    expect(demoSources).not.toMatch(/`\s*sightline (diagnose|check|start)/);
  });
});

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

describe('links', () => {
  const pages = [
    'README.md',
    'bench/README.md',
    'monitoring/README.md',
    ...filesUnder('docs').filter((f) => f.endsWith('.md')),
  ];

  it('every relative link and #anchor in the README and docs resolves', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of pages) {
      const text = read(page).replace(/```[\s\S]*?```/g, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue;
        checked++;
        const [file, anchor] = target.split('#') as [string, string | undefined];
        const path = file === '' ? page : relative(ROOT, join(ROOT, dirname(page), file));
        if (!existsSync(join(ROOT, path))) {
          broken.push(`${page}: ${target} (no ${path})`);
          continue;
        }
        if (anchor !== undefined && path.endsWith('.md')) {
          const anchors = [
            ...read(path)
              .replace(/```[\s\S]*?```/g, '')
              .matchAll(/^#{1,6} (.+)$/gm),
          ].map((h) => anchorOf(h[1]!));
          if (!anchors.includes(anchor)) broken.push(`${page}: ${target} (no heading #${anchor} in ${path})`);
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
    expect(broken).toEqual([]);
  });
});

describe('docs/grafana.md', () => {
  const PROMTOOL = needCommand('promtool', 'prometheus');
  const tmp = mkdtempSync(join(tmpdir(), 'sightline-docs-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const yamlBlocks = [...read('docs/grafana.md').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it.skipIf(skipped(PROMTOOL))(titled('its Prometheus scrape job passes promtool check config', PROMTOOL), () => {
    const scrape = yamlBlocks.find((b) => b.includes('scrape_configs:'));
    expect(scrape).toBeDefined();
    const token = join(tmp, 'token');
    writeFileSync(token, 'secret\n');
    const file = join(tmp, 'prometheus.yml');
    writeFileSync(file, scrape!.replace('/etc/prometheus/secrets/sightline-admin-token', token));
    const r = spawnSync('promtool', ['check', 'config', file], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(scrape).toMatch(/authorization:\n\s+type: Bearer/);
  });

  const AMTOOL = needCommand('amtool', 'prometheus-alertmanager');
  it.skipIf(skipped(AMTOOL))(
    titled('its Alertmanager excerpt, given the receivers it names, passes amtool check-config', AMTOOL),
    () => {
      const excerpt = yamlBlocks.find((b) => b.includes('inhibit_rules:'));
      expect(excerpt).toBeDefined();
      const file = join(tmp, 'alertmanager.yml');
      const full =
        excerpt!.replace(/^route:\n/m, 'route:\n  receiver: default\n') +
        '\nreceivers:\n  - name: default\n  - name: oncall\n  - name: team-chat\n';
      writeFileSync(file, full);
      const r = spawnSync('amtool', ['check-config', file], { encoding: 'utf8' });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/SUCCESS/);
    },
  );

  it('names the exemplar label Sightline sets, and the generate command it shows exists', () => {
    expect(read('docs/grafana.md')).toContain('exemplarTraceIdDestinations');
    expect(read('src/telemetry/metrics.ts')).toContain('{ trace_id: id }');
    expect(yamlBlocks.join('\n')).toMatch(/- name: trace_id/);
    const help = spawnSync(process.execPath, ['monitoring/generate.mjs', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(help.stdout).toContain('--selector');
    expect(help.stdout).toContain('--runbook-base');
  });
});
