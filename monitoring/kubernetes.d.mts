/** Types for monitoring/kubernetes.mjs (plain ESM, imported by the TypeScript tests). */
import type { MonitoringConfig, RuleFile } from './generate.mjs';

export declare const PROMETHEUS_RULE_FILE: string;
export interface PrometheusRuleObject {
  apiVersion: 'monitoring.coreos.com/v1';
  kind: 'PrometheusRule';
  metadata: { name: string; labels: Record<string, string> };
  spec: RuleFile;
}
export declare function prometheusRuleObject(c: MonitoringConfig): PrometheusRuleObject;
export declare function renderKubernetes(c: MonitoringConfig): Record<string, string>;
