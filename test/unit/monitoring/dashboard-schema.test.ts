/**
 * The dashboards against Grafana's own published dashboard schema: the TypeScript types of
 * `@grafana/schema` (Grafana Labs, Apache-2.0; generated from the CUE schema Grafana validates
 * dashboards with), since no Grafana server runs here and Grafana publishes no JSON Schema for the
 * classic dashboard model. Each committed dashboard is type-checked with the TypeScript compiler as
 * an object literal of type `Dashboard`, and each panel's `options` and
 * `fieldConfig.defaults.custom` against its panel plugin's `Options` / `FieldConfig`. Object
 * literals get excess-property checks, so a misspelt or unknown key fails, as does a wrong type
 * or enum value. Grafana fills plugin defaults, so plugin options may be partial; the dashboard
 * and panel models keep their required keys.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { filesIn, read, ROOT } from './helpers.js';

/** Panel plugin → its types module in @grafana/schema and whether it declares a FieldConfig. */
const PANEL_TYPES: Record<string, { module: string; fieldConfig: boolean }> = {
  timeseries: { module: 'timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen', fieldConfig: true },
  stat: { module: 'stat/panelcfg/x/StatPanelCfg_types.gen', fieldConfig: false },
  bargauge: { module: 'bargauge/panelcfg/x/BarGaugePanelCfg_types.gen', fieldConfig: false },
  heatmap: { module: 'heatmap/panelcfg/x/HeatmapPanelCfg_types.gen', fieldConfig: true },
  table: { module: 'table/panelcfg/x/TablePanelCfg_types.gen', fieldConfig: true },
  text: { module: 'text/panelcfg/x/TextPanelCfg_types.gen', fieldConfig: false },
};

const PRELUDE = `
import type { Dashboard } from '@grafana/schema';
/** JSON's view of a type: string enums become their values (a JSON file holds "absolute", not ThresholdsMode.Absolute). */
type Json<T> = T extends string ? \`\${T}\` : T extends number | boolean | null | undefined ? T
  : T extends ReadonlyArray<infer U> ? Array<Json<U>> : T extends object ? { [K in keyof T]: Json<T[K]> } : T;
/** The same, every key optional (plugin options: Grafana fills the plugin's defaults). */
type PartialJson<T> = T extends string ? \`\${T}\` : T extends number | boolean | null | undefined ? T
  : T extends ReadonlyArray<infer U> ? Array<PartialJson<U>> : T extends object ? { [K in keyof T]?: PartialJson<T[K]> } : T;
`;

type Panel = {
  type: string;
  title?: string;
  options?: unknown;
  fieldConfig?: { defaults?: { custom?: unknown } };
  panels?: Panel[];
};

/** The TypeScript source that type-checks the dashboards, and the checked file's path. */
export function checkSource(dashboards: Record<string, string>): { text: string; unknownPanelTypes: string[] } {
  const imports = Object.entries(PANEL_TYPES)
    .map(([type, t]) => `import type * as P_${type} from '@grafana/schema/dist/esm/raw/composable/${t.module}';`)
    .join('\n');
  const unknown = new Set<string>();
  const body: string[] = [];
  for (const [name, text] of Object.entries(dashboards)) {
    const id = name.replace(/\W/g, '_');
    body.push(`// ${name}\nexport const ${id}: Json<Dashboard> = ${text.trim()};`);
    const model = JSON.parse(text) as { panels?: Panel[] };
    const panels = (model.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
    panels.forEach((p, i) => {
      if (p.type === 'row') return;
      const t = PANEL_TYPES[p.type];
      if (!t) {
        unknown.add(p.type);
        return;
      }
      const label = `${name} panel ${i} (${p.type}: ${p.title ?? ''})`.replace(/\*\//g, '');
      if (p.options !== undefined)
        body.push(
          `/* ${label} options */\nexport const ${id}_${i}_options: PartialJson<P_${p.type}.Options> = ${JSON.stringify(p.options)};`,
        );
      const custom = p.fieldConfig?.defaults?.custom;
      if (custom !== undefined) {
        const type = t.fieldConfig ? `PartialJson<P_${p.type}.FieldConfig>` : 'Record<string, never>';
        body.push(
          `/* ${label} fieldConfig.defaults.custom */\nexport const ${id}_${i}_custom: ${type} = ${JSON.stringify(custom)};`,
        );
      }
    });
  }
  return { text: `${imports}\n${PRELUDE}\n${body.join('\n\n')}\n`, unknownPanelTypes: [...unknown] };
}

/** Type errors of `text` compiled as a module inside the repository (so node_modules resolves). */
export function typeErrors(text: string): string[] {
  const file = join(ROOT, 'test/unit/monitoring/__grafana_dashboard_check__.ts');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, lang, ...rest) =>
    name === file ? ts.createSourceFile(name, text, lang, true) : getSourceFile.call(host, name, lang, ...rest);
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? text : readFile.call(host, name));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    const line = where && d.file ? d.file.text.split('\n')[where.line]?.slice(0, 120) : '';
    return `${where ? `line ${where.line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}${line ? `\n    ${line}` : ''}`;
  });
}

const files = filesIn('grafana/dashboards', '.json');
const committed = Object.fromEntries(files.map((f) => [f.split('/').pop()!, read(f)]));

describe('dashboards against @grafana/schema', () => {
  it('uses the published package (Grafana Labs, Apache-2.0)', () => {
    const pkg = JSON.parse(
      readFileSync(createRequire(import.meta.url).resolve('@grafana/schema/package.json'), 'utf8'),
    ) as { name: string; license: string; author: string };
    expect(pkg).toMatchObject({ name: '@grafana/schema', license: 'Apache-2.0', author: 'Grafana Labs' });
  });

  it('every committed dashboard type-checks as Dashboard, and every panel against its plugin types', () => {
    const { text, unknownPanelTypes } = checkSource(committed);
    expect(unknownPanelTypes, 'panel types without an entry in PANEL_TYPES').toEqual([]);
    expect(Object.keys(committed)).toHaveLength(3);
    expect(text.match(/_options: PartialJson/g)?.length ?? 0).toBeGreaterThan(10);
    expect(typeErrors(text)).toEqual([]);
  }, 120_000);

  it('finds a misspelt key, a wrong type and a bad enum value (the check can fail)', () => {
    const name = Object.keys(committed)[0]!;
    const model = JSON.parse(committed[name]!) as Record<string, unknown> & { panels: Array<Record<string, unknown>> };
    const panel = model.panels.find((p) => p['type'] === 'timeseries')!;
    const variants = {
      'misspelt.json': { ...model, refesh: '30s' },
      'wrong-type.json': { ...model, schemaVersion: 'forty' },
      'bad-enum.json': {
        ...model,
        panels: [{ ...panel, options: { ...(panel['options'] as object), legend: { displayMode: 'sideways' } } }],
      },
      'panel-key.json': { ...model, panels: [{ ...panel, gridPosition: { x: 0 } }] },
    };
    const errors = typeErrors(
      checkSource(Object.fromEntries(Object.entries(variants).map(([k, v]) => [k, JSON.stringify(v, null, 2)]))).text,
    ).join('\n');
    expect(errors).toMatch(/'"?refesh"?' does not exist/);
    expect(errors).toMatch(/Type 'string' is not assignable to type 'number'/);
    expect(errors).toMatch(/"sideways"/);
    expect(errors).toMatch(/'"?gridPosition"?' does not exist/);
  }, 120_000);
});
