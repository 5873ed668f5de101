/**
 * docker-compose.yml as data, and the tools the compose-stack tests (test/e2e/stack*.test.ts) run:
 * a check whose tool is missing is skipped outside CI and fails in CI (CI=true).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { needCommand, type Need } from './needs.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const at = (...p: string[]): string => path.join(ROOT, ...p);

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const obj = (v: unknown, what: string): Obj => {
  if (!isObj(v)) throw new Error(`${what}: expected a mapping, got ${JSON.stringify(v)}`);
  return v;
};
export const yamlFile = (...p: string[]): Obj => obj(parse(readFileSync(at(...p), 'utf8')), p.join('/'));

/** In CI a missing tool fails its check (the test runs and finds it missing). */
export function requireTool(n: Need): void {
  if (!n.ok) throw new Error(n.reason);
}
export function run(cmd: string, args: string[], cwd = ROOT): { code: number | null; out: string; err: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

export const COMPOSE = needCommand('docker-compose', 'docker-compose');
export const AMTOOL = needCommand('amtool', 'prometheus-alertmanager');
export const PROMTOOL = needCommand('promtool', 'prometheus');

// ------------------------------------------------------------------------------------------------
// docker-compose.yml as data
// ------------------------------------------------------------------------------------------------

export const compose = yamlFile('docker-compose.yml');
export const services = obj(compose.services, 'services');
export const service = (name: string): Obj => obj(services[name], `services.${name}`);

export interface Mount {
  service: string;
  type: 'bind' | 'volume';
  source: string;
  target: string;
  readOnly: boolean;
}
export function mounts(): Mount[] {
  const out: Mount[] = [];
  for (const [name, s] of Object.entries(services)) {
    for (const v of (obj(s, name).volumes as unknown[] | undefined) ?? []) {
      if (typeof v === 'string') {
        const [source = '', target = '', mode = ''] = v.split(':');
        if (target === '') continue; // anonymous volume
        const bind = /^[./~]/.test(source);
        out.push({
          service: name,
          type: bind ? 'bind' : 'volume',
          source,
          target,
          readOnly: mode.split(',').includes('ro'),
        });
      } else {
        const m = obj(v, `${name}.volumes[]`);
        out.push({
          service: name,
          type: m.type === 'bind' ? 'bind' : 'volume',
          source: String(m.source),
          target: String(m.target),
          readOnly: m.read_only === true,
        });
      }
    }
  }
  return out;
}
export const binds = mounts().filter((m) => m.type === 'bind');
/** Bind mounts of files the dashboards/rules work generates (grafana/, prometheus/). */
export const generated = (m: Mount): boolean => /^\.\/(grafana|prometheus)\//.test(m.source);
/** A target that names a file (has an extension), so its source must be a file, not a directory. */
export const fileTarget = (t: string): boolean => /\.[a-z]+$/i.test(path.posix.basename(t));

export function publishedPorts(name: string): { host: string; published: number; target: number }[] {
  return ((service(name).ports as unknown[] | undefined) ?? []).map((p) => {
    const parts = String(p)
      .replace(/\/tcp$/, '')
      .split(':');
    const target = Number(parts.pop());
    const published = Number(parts.pop());
    return { host: parts.pop() ?? '0.0.0.0', published, target };
  });
}
