/** Types for monitoring/generate.mjs (plain ESM, imported by the TypeScript tests). */

export type Severity = 'critical' | 'warning' | 'info';

export interface Band {
  name: string;
  seconds: number;
  lo: number;
  hi: number;
  culprits: string;
}

export interface AlertSettings {
  severity: Severity;
  for: string;
  [key: string]: unknown;
}

export interface MonitoringConfig {
  scale: 'production' | 'test';
  prefix: string;
  groupName: string;
  runbookUrl: string;
  selector: string;
  ruleInterval: string | null;
  metrics: Record<string, string>;
  proxyInitiator: string;
  normalReasons: string[];
  proxyTimeoutReasons: string[];
  bands: Band[];
  window: string;
  alerts: Record<string, AlertSettings>;
  dashboards: {
    uidPrefix: string;
    tags: string[];
    refresh: string;
    time: { from: string; to: string };
    traceDatasourceUid: string;
  };
}

export interface ConfigOptions {
  scale?: 'production' | 'test';
  [key: string]: unknown;
}

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleFile {
  groups: Array<{ name: string; interval?: string; rules: Rule[] }>;
}

/** A Grafana dashboard JSON model (only what the tests read is typed). */
export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: Array<Record<string, unknown> & { name: string; type: string }> };
  panels: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export interface PanelExpression {
  dashboard: string;
  panel: string;
  panelId: number;
  type: string;
  refId: string;
  expr: string;
  instant: boolean;
  format: string;
}

export declare const RUNBOOK_URL: string;
export declare const ROOT: string;
export declare const RULES_FILE: string;
export declare const DASHBOARD_DIR: string;
export declare const GRAFANA_DASHBOARD_PATH: string;
export declare const SCHEMA_VERSION: number;
export declare const ALERT_NAMES: Readonly<Record<string, string>>;

export declare function config(options?: ConfigOptions): MonitoringConfig;
export declare function rulesObject(c: MonitoringConfig): RuleFile;
export declare function renderRules(c: MonitoringConfig): string;
export declare function recordNames(c: MonitoringConfig): Record<string, string>;
export declare function runbookAnchor(alertName: string): string;
export declare function selector(c: MonitoringConfig, metric: string, ...matchers: string[]): string;
export declare function dashboards(c: MonitoringConfig): Record<string, Dashboard>;
export declare function renderDashboards(c: MonitoringConfig): Record<string, string>;
export declare function renderProvisioning(c: MonitoringConfig): Record<string, string>;
export declare function renderAll(c?: MonitoringConfig): Record<string, string>;
export declare function panelExpressions(
  models: Record<string, Dashboard | string> | Array<Dashboard | string>,
): PanelExpression[];
export declare function differingFiles(files: Record<string, string>, root?: string): string[];
export declare function writeFiles(files: Record<string, string>, root?: string): void;
export declare function leMatcher(edge: number): string;
export declare function metricNames(expr: string): string[];
export declare function parseSelector(text: string): string;
export declare function parseRunbookBase(text: string): string;
export declare function parseDuration(text: string): number;
export declare function formatDuration(seconds: number): string;
