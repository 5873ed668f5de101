/**
 * Offline validation of Kubernetes objects against the published schemas, rejecting unknown fields
 * (as `kubectl apply --validate=strict` / kubeconform -strict would; neither runs here).
 *
 * Schemas: kubernetes-models (the Kubernetes OpenAPI definitions compiled to ajv validators) and
 * @kubernetes-models/prometheus-operator (the same for the operator's CRDs). They check types,
 * required fields, enums and formats, but like the OpenAPI documents they say nothing about fields
 * they do not know. Unknown fields are found by running the validator over a Proxy of the object:
 * a compiled validator reads exactly the properties its schema declares, and enumerates the keys
 * of map-typed values (labels, data, resources), so any own property it never read is unknown.
 */
import type { K8sObject } from './kustomize.js';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';

interface AjvError {
  instancePath: string;
  keyword: string;
  params: unknown;
}

/** A model class's schema validation, run on any object (it throws a ValidationError with `errors`). */
type Validate = (this: unknown) => void;
const models: Array<{ apiVersion: string; kind: string; prototype: { validate(): void } }> = [
  ConfigMap,
  Service,
  Deployment,
  PodDisruptionBudget,
  HorizontalPodAutoscaler,
  ServiceMonitor,
  PrometheusRule,
];

/** Schema validations by `apiVersion kind`: every kind deploy/kubernetes uses. */
export const VALIDATORS: ReadonlyMap<string, Validate> = new Map(
  models.map((m) => [`${m.apiVersion} ${m.kind}`, m.prototype.validate as Validate]),
);

/** Wraps `value` so that every property read (`seen`) and key enumeration (`maps`) is recorded. */
function tracked(value: unknown, path: string, seen: Set<string>, maps: Set<string>): unknown {
  if (value === null || typeof value !== 'object') return value;
  return new Proxy(value, {
    get(target, key, receiver) {
      const v: unknown = Reflect.get(target, key, receiver);
      if (typeof key !== 'string') return v;
      seen.add(`${path}/${key}`);
      return Object.hasOwn(target, key) ? tracked(v, `${path}/${key}`, seen, maps) : v;
    },
    ownKeys(target) {
      maps.add(path);
      return Reflect.ownKeys(target);
    },
  });
}

function unknownFields(value: unknown, path: string, seen: Set<string>, maps: Set<string>, out: string[]): void {
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    const p = `${path}/${k}`;
    if (!Array.isArray(value) && !maps.has(path) && !seen.has(p)) out.push(p);
    unknownFields(v, p, seen, maps, out);
  }
}

/** Problems with one object: schema errors and unknown fields, as "Kind/name path: message". */
export function validateObject(o: K8sObject): string[] {
  const where = `${o.kind}/${o.metadata?.name ?? '?'}`;
  const validate = VALIDATORS.get(`${o.apiVersion} ${o.kind}`);
  if (validate === undefined) return [`${where}: no schema for ${o.apiVersion} ${o.kind}`];
  const seen = new Set<string>();
  const maps = new Set<string>();
  const problems: string[] = [];
  try {
    validate.call(tracked(o, '', seen, maps));
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors;
    if (errors === undefined) throw err;
    for (const e of errors)
      problems.push(`${where} ${e.instancePath || '/'}: ${e.keyword} ${JSON.stringify(e.params)}`);
  }
  const unknown: string[] = [];
  unknownFields(o, '', seen, maps, unknown);
  for (const p of unknown) problems.push(`${where} ${p}: unknown field`);
  return problems;
}
