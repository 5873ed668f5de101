/**
 * A small offline renderer for the kustomize features deploy/kubernetes uses, so `npm test` can
 * check the rendered objects without kubectl or a cluster (no kustomize is published on npm).
 *
 * Implemented as kustomize (v5) does it: `resources` (files, and directories holding a
 * kustomization.yaml), `configMapGenerator` (`files`, `literals`) with the content-hash name suffix
 * and the generated name put into the pod templates that refer to it, and the output order of
 * `kubectl kustomize` (its legacy kind order, then kind, then name). Any other kustomization field
 * is an error rather than silently ignored. Where kubectl exists the test compares the two outputs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import YAML from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: unknown };
  [k: string]: unknown;
};

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  configMapGenerator?: Array<{ name: string; files?: string[]; literals?: string[] }>;
}

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'configMapGenerator']);

/** Render the kustomization in `dir` to its objects, in `kubectl kustomize` order. */
export function kustomize(dir: string): K8sObject[] {
  return sortLikeKustomize(build(resolve(dir)));
}

function build(dir: string): K8sObject[] {
  const file = join(dir, 'kustomization.yaml');
  const k = YAML.parse(readFileSync(file, 'utf8')) as Kustomization;
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length > 0)
    throw new Error(`${file}: not implemented by test/helpers/kustomize.ts: ${unsupported.join(', ')}`);
  if (k.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || k.kind !== 'Kustomization')
    throw new Error(`${file}: not a kustomize.config.k8s.io/v1beta1 Kustomization`);
  const out: K8sObject[] = [];
  for (const r of k.resources ?? []) {
    const path = resolve(dir, r);
    if (!existsSync(path)) throw new Error(`${file}: resource ${r} does not exist`);
    if (statSync(path).isDirectory()) out.push(...build(path));
    else
      out.push(
        ...YAML.parseAllDocuments(readFileSync(path, 'utf8'))
          .map((d) => d.toJS() as K8sObject)
          .filter((o) => o !== null),
      );
  }
  const renamed = new Map<string, string>();
  for (const g of k.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const f of g.files ?? []) data[basename(f)] = readFileSync(resolve(dir, f), 'utf8');
    for (const l of g.literals ?? []) {
      const i = l.indexOf('=');
      data[l.slice(0, i)] = l.slice(i + 1);
    }
    const name = `${g.name}-${configMapHash(data)}`;
    renamed.set(g.name, name);
    out.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
  }
  for (const o of out) renameConfigMapRefs(o, renamed);
  return out;
}

/**
 * kustomize's hash suffix (api/hasher): sha256 of Go's json.Marshal of {data, kind, name}, its first
 * 10 hex digits re-lettered. The name is always "": kustomize looks it up as the single field
 * "metadata/name", which never exists (checked against `kubectl kustomize`).
 */
export function configMapHash(data: Record<string, string>): string {
  const sorted = Object.fromEntries(
    Object.keys(data)
      .sort()
      .map((key) => [key, data[key]]),
  );
  // Go's encoder escapes <, >, & and U+2028/2029, which JSON.stringify leaves as they are.
  const json = JSON.stringify({ data: sorted, kind: 'ConfigMap', name: '' }).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  const hex = createHash('sha256').update(json).digest('hex').slice(0, 10);
  const swap: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return [...hex].map((c) => swap[c] ?? c).join('');
}

type Json = Record<string, unknown>;

/** Generated ConfigMap names into pod templates: volumes, projected sources, envFrom, env. */
function renameConfigMapRefs(o: K8sObject, renamed: Map<string, string>): void {
  const podSpec = ((o.spec as Json | undefined)?.template as Json | undefined)?.spec as Json | undefined;
  if (podSpec === undefined) return;
  const fix = (ref: Json | undefined, key = 'name'): void => {
    if (ref !== undefined && typeof ref[key] === 'string' && renamed.has(ref[key])) ref[key] = renamed.get(ref[key]);
  };
  for (const v of (podSpec.volumes as Json[] | undefined) ?? []) {
    fix(v.configMap as Json | undefined);
    for (const s of ((v.projected as Json | undefined)?.sources as Json[] | undefined) ?? [])
      fix(s.configMap as Json | undefined);
  }
  const containers = [
    ...((podSpec.containers as Json[] | undefined) ?? []),
    ...((podSpec.initContainers as Json[] | undefined) ?? []),
  ];
  for (const c of containers) {
    for (const e of (c.envFrom as Json[] | undefined) ?? []) fix(e.configMapRef as Json | undefined);
    for (const e of (c.env as Json[] | undefined) ?? [])
      fix((e.valueFrom as Json | undefined)?.configMapKeyRef as Json | undefined);
  }
}

/** kustomize's legacy order: these kinds first (in this order), these last, the rest by kind; then name. */
const FIRST = [
  'Namespace',
  'ResourceQuota',
  'StorageClass',
  'CustomResourceDefinition',
  'ServiceAccount',
  'PodSecurityPolicy',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ConfigMap',
  'Secret',
  'Endpoints',
  'Service',
  'LimitRange',
  'PriorityClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'Deployment',
  'StatefulSet',
  'CronJob',
  'PodDisruptionBudget',
];
const LAST = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

function sortLikeKustomize(objects: K8sObject[]): K8sObject[] {
  const rank = (kind: string): number =>
    FIRST.includes(kind) ? FIRST.indexOf(kind) : LAST.includes(kind) ? 1000 + LAST.indexOf(kind) : FIRST.length;
  return [...objects].sort(
    (a, b) =>
      rank(a.kind) - rank(b.kind) || a.kind.localeCompare(b.kind) || a.metadata.name.localeCompare(b.metadata.name),
  );
}
