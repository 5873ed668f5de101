/**
 * deploy/kubernetes (issue 13, point 4), checked offline: the base and the autoscaling overlay are
 * rendered (test/helpers/kustomize.ts; compared with `kubectl kustomize` where kubectl exists), every
 * object is validated against the Kubernetes / prometheus-operator schemas with unknown fields
 * rejected (test/helpers/k8s-validate.ts), the pieces fit together (ports, selectors, probes, the
 * shutdown budget, the embedded sightline.yaml), and the PrometheusRule carries exactly the rules of
 * prometheus/rules, which promtool checks once extracted from it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { config, rulesObject, RULES_FILE } from '../../../monitoring/generate.mjs';
import { prometheusRuleObject, PROMETHEUS_RULE_FILE, renderKubernetes } from '../../../monitoring/kubernetes.mjs';
import { loadConfigFile } from '../../../src/config/load.js';
import { kustomize, type K8sObject } from '../../helpers/kustomize.js';
import { validateObject } from '../../helpers/k8s-validate.js';
import { needOptional, titled } from '../../helpers/needs.js';
import { promtool, promtoolMode, read, ROOT } from '../monitoring/helpers.js';

const BASE = join(ROOT, 'deploy/kubernetes/base');
const OVERLAY = join(ROOT, 'deploy/kubernetes/overlays/autoscaling');
const base = kustomize(BASE);
const overlay = kustomize(OVERLAY);
const tmp = mkdtempSync(join(tmpdir(), 'sightline-k8s-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Json = Record<string, any>;
const one = (objects: K8sObject[], kind: string, name?: string): Json => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found, `${kind}${name ? `/${name}` : ''}`).toHaveLength(1);
  return found[0] as Json;
};
const deployment = one(base, 'Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const configMap = one(base, 'ConfigMap');
const sightlineYaml = YAML.parse(configMap.data['sightline.yaml'] as string) as Json;
const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/kubernetes renders', () => {
  it('the base: ConfigMap, two Services, Deployment, PDB, PrometheusRule, ServiceMonitor; the overlay adds an HPA', () => {
    expect(base.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      `ConfigMap/${configMap.metadata.name}`,
      'Service/sightline',
      'Service/sightline-admin',
      'Deployment/sightline',
      'PodDisruptionBudget/sightline',
      'PrometheusRule/sightline',
      'ServiceMonitor/sightline',
    ]);
    expect(overlay.map((o) => o.kind)).toContain('HorizontalPodAutoscaler');
    expect(overlay.filter((o) => o.kind !== 'HorizontalPodAutoscaler')).toEqual(base);
  });

  // kubectl is no Debian package and CI cannot install it: compared wherever it is installed.
  const kubectl = needOptional(
    spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 20_000 }).status === 0,
    '`kubectl` not found on PATH (not in Debian; the renderer is then checked by the tests below only)',
  );
  it.skipIf(kubectl.skip)(
    titled('exactly as `kubectl kustomize` does (names with the content hash, order)', kubectl),
    () => {
      for (const [dir, ours] of [
        [BASE, base],
        [OVERLAY, overlay],
      ] as const) {
        const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
        expect(r.status, r.stderr).toBe(0);
        expect(YAML.parseAllDocuments(r.stdout).map((d) => d.toJS() as unknown)).toEqual(ours);
      }
    },
  );
});

describe('every object against the Kubernetes and prometheus-operator schemas, unknown fields rejected', () => {
  for (const o of overlay) {
    it(`${o.kind}/${o.metadata.name}`, () => {
      expect(validateObject(o)).toEqual([]);
    });
  }

  it('the validator catches a misspelled field, a wrong type and a missing required field', () => {
    const bad = structuredClone(deployment) as Json;
    bad.spec.template.spec.containers[0].readinessProbe.periodSekonds = 2;
    bad.spec.replicas = 'two';
    delete bad.spec.selector;
    bad.metadata.labelz = { a: 'b' };
    bad.status_ = {};
    const problems = validateObject(bad as K8sObject);
    expect(problems).toContain('Deployment/sightline /metadata/labelz: unknown field');
    expect(problems).toContain('Deployment/sightline /status_: unknown field');
    expect(
      problems.some((p) => p.includes('/spec/template/spec/containers/0/readinessProbe/periodSekonds: unknown field')),
    ).toBe(true);
    expect(problems.some((p) => p.includes('/spec/replicas: type'))).toBe(true);
    expect(problems.some((p) => p.includes('required') && p.includes('selector'))).toBe(true);
    const rule = structuredClone(one(base, 'PrometheusRule')) as Json;
    rule.spec.groups[0].rules[0].exprr = 'up';
    expect(validateObject(rule as K8sObject)).toEqual([
      expect.stringContaining('/spec/groups/0/rules/0/exprr: unknown field'),
    ]);
  });
});

describe('the pieces fit', () => {
  it("the ConfigMap's sightline.yaml is a valid Sightline config whose admin listener is reachable in the pod", async () => {
    const file = join(tmp, 'sightline.yaml');
    // The token comes from the mounted Secret: stand a file in for it at the same place.
    const tokenPath = sightlineYaml.admin.tokenFile as string;
    const tokenMount = container.volumeMounts.find((m: Json) => m.name === 'admin-token');
    expect(tokenPath.startsWith(`${tokenMount.mountPath}/`)).toBe(true);
    expect(tokenMount.readOnly).toBe(true);
    const secretVolume = pod.volumes.find((v: Json) => v.name === 'admin-token');
    const monitor = one(base, 'ServiceMonitor', 'sightline');
    expect(monitor.spec.endpoints[0].authorization.credentials).toEqual({
      name: secretVolume.secret.secretName,
      key: tokenPath.slice(tokenMount.mountPath.length + 1),
    });
    const tokenFile = join(tmp, 'admin-token');
    writeFileSync(tokenFile, 'k8s-test-token\n');
    writeFileSync(file, (configMap.data['sightline.yaml'] as string).replace(tokenPath, tokenFile));
    const o = await loadConfigFile(file);
    expect(o.admin?.enabled).toBe(true);
    expect(o.admin?.host).toBe('0.0.0.0');
    expect(o.admin?.token).toBe('k8s-test-token');
    expect(o.listenHost).toBe('0.0.0.0');
    const volume = pod.volumes.find((v: Json) => v.name === 'config');
    expect(volume.configMap.name).toBe(configMap.metadata.name);
    const mount = container.volumeMounts.find((m: Json) => m.name === 'config');
    expect(`${mount.mountPath}/sightline.yaml`).toBe(container.args[container.args.indexOf('-c') + 1]);
    expect(mount.readOnly).toBe(true);
  });

  it('every route port and the admin port are container ports; the Services and the ServiceMonitor use them by name', () => {
    const byPort = new Map<number, string>(container.ports.map((p: Json) => [p.containerPort, p.name]));
    const routePorts = (sightlineYaml.routes as Json[]).flatMap((r) => [r.match.ports].flat() as number[]);
    for (const port of routePorts) expect(byPort.has(port), `route port ${port}`).toBe(true);
    expect(byPort.get(sightlineYaml.admin.port)).toBe('admin');
    const proxySvc = one(base, 'Service', 'sightline');
    const adminSvc = one(base, 'Service', 'sightline-admin');
    for (const port of routePorts)
      expect(proxySvc.spec.ports.some((p: Json) => p.targetPort === byPort.get(port))).toBe(true);
    // The admin API shows client addresses: never on the proxy traffic's Service.
    expect(proxySvc.spec.ports.some((p: Json) => p.targetPort === 'admin')).toBe(false);
    expect(adminSvc.spec.ports.map((p: Json) => p.targetPort)).toEqual(['admin']);
    const podLabels = deployment.spec.template.metadata.labels;
    for (const svc of [proxySvc, adminSvc]) expect(matches(svc.spec.selector, podLabels)).toBe(true);
    expect(matches(deployment.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(matches(one(base, 'PodDisruptionBudget').spec.selector.matchLabels, podLabels)).toBe(true);
    const sm = one(base, 'ServiceMonitor');
    expect(matches(sm.spec.selector.matchLabels, adminSvc.metadata.labels)).toBe(true);
    expect(matches(sm.spec.selector.matchLabels, proxySvc.metadata.labels)).toBe(false);
    expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: 'admin', path: '/metrics' })]);
  });

  it('readiness on /readyz (503 from drain start), liveness on /healthz, both on the admin port', () => {
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
  });

  it('termination: preStop pause + gracefulShutdownTimeout + drain spread fit in terminationGracePeriodSeconds', () => {
    const preStop = container.lifecycle.preStop.sleep.seconds as number;
    expect(preStop).toBeGreaterThan(0);
    const graceful = (sightlineYaml.gracefulShutdownTimeout ?? 30_000) as number;
    const spread = (sightlineYaml.drain?.spreadMs ?? 0) as number;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + (graceful + spread) / 1000);
  });

  it('non-root, read-only root filesystem, no privilege escalation or capabilities, resource requests', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
  });

  it('the HPA scales this Deployment, never below what the PDB lets one disruption leave', () => {
    const hpa = one(overlay, 'HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect(hpa.spec.minReplicas).toBeGreaterThan(one(base, 'PodDisruptionBudget').spec.maxUnavailable);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
  });
});

describe('the PrometheusRule', () => {
  const rule = one(base, 'PrometheusRule');

  it('holds exactly the groups of prometheus/rules (one source: monitoring/config.mjs)', () => {
    const file = YAML.parse(read(RULES_FILE)) as Json;
    expect(rule.spec).toEqual(file);
    expect(rule).toEqual(prometheusRuleObject(config()));
    expect(rulesObject(config())).toEqual(file);
    expect(read(PROMETHEUS_RULE_FILE)).toBe(renderKubernetes(config())[PROMETHEUS_RULE_FILE]);
  });

  const promtoolNeed = needOptional(
    promtoolMode !== 'skip',
    '`promtool` not found on PATH (apt-get install -y prometheus; .ci/run installs it)',
  );
  it.skipIf(promtoolNeed.skip)(titled('passes promtool check rules (lint fatal) once extracted', promtoolNeed), () => {
    expect(promtoolMode, 'promtool (Debian package "prometheus") must be installed in CI').not.toBe('fail');
    const file = join(tmp, 'from-prometheusrule.yml');
    writeFileSync(file, YAML.stringify(rule.spec));
    const r = promtool(['check', 'rules', '--lint=all', '--lint-fatal', file]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
  });
});
