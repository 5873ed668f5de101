/**
 * Grafana panel builders for the dashboards (dashboards.mjs): one function per panel type, each
 * giving a plain JSON panel model whose queries go through the `datasource` template variable,
 * and `layout()`, which gives the panels ids and grid positions.
 */
const DS = Object.freeze({ type: 'prometheus', uid: '${datasource}' });
export const ds = () => ({ ...DS });
const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

// ---- panel builders ---------------------------------------------------------------------------

/** One query. `legend`: legendFormat; `instant`: an instant query (tables, bar gauges, stats). */
export function q(expr, { legend, instant = false, format, exemplar = false } = {}) {
  return {
    datasource: ds(),
    expr,
    ...(legend === undefined ? {} : { legendFormat: legend }),
    range: !instant,
    instant,
    ...(format === undefined ? {} : { format }),
    ...(exemplar ? { exemplar: true } : {}),
    editorMode: 'code',
  };
}

function withRefIds(targets) {
  return targets.map((t, i) => ({ ...t, refId: REF_IDS[i] }));
}

function base(type, title, description, targets, size) {
  return {
    type,
    title,
    ...(description ? { description } : {}),
    ...(targets === null ? {} : { datasource: ds(), targets: withRefIds(targets) }),
    gridPos: { w: size.w, h: size.h },
  };
}

export function timeseries(
  title,
  description,
  targets,
  { unit = 'short', w = 12, h = 8, stack = false, links, min, exemplars = true } = {},
) {
  const p = base(
    'timeseries',
    title,
    description,
    exemplars ? targets.map((t) => ({ ...t, exemplar: true })) : targets,
    { w, h },
  );
  p.fieldConfig = {
    defaults: {
      unit,
      ...(min === undefined ? {} : { min }),
      custom: {
        drawStyle: 'line',
        lineWidth: 1,
        fillOpacity: stack ? 30 : 10,
        showPoints: 'never',
        spanNulls: false,
        stacking: { mode: stack ? 'normal' : 'none', group: 'A' },
      },
      ...(links ? { links } : {}),
    },
    overrides: [],
  };
  p.options = {
    legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
    tooltip: { mode: 'multi', sort: 'desc' },
  };
  return p;
}

export function stat(title, description, target, { unit = 'short', w = 4, h = 4, decimals, thresholds } = {}) {
  const p = base('stat', title, description, [target], { w, h });
  p.fieldConfig = {
    defaults: {
      unit,
      ...(decimals === undefined ? {} : { decimals }),
      thresholds: thresholds ?? { mode: 'absolute', steps: [{ color: 'green', value: null }] },
    },
    overrides: [],
  };
  p.options = {
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    colorMode: 'value',
    graphMode: 'area',
    textMode: 'auto',
  };
  return p;
}

export function table(title, description, targets, { w = 12, h = 8, unit = 'short', hide = ['Time'] } = {}) {
  const p = base('table', title, description, targets, { w, h });
  p.fieldConfig = { defaults: { unit }, overrides: [] };
  p.options = { showHeader: true, cellHeight: 'sm' };
  p.transformations = [
    { id: 'merge', options: {} },
    {
      id: 'organize',
      options: { excludeByName: Object.fromEntries(hide.map((k) => [k, true])), renameByName: { Value: 'value' } },
    },
  ];
  return p;
}

export function heatmap(title, description, target, { w = 12, h = 9, repeat } = {}) {
  const p = base(
    'heatmap',
    title,
    description,
    [{ ...target, format: 'heatmap', legendFormat: '{{le}}', exemplar: true }],
    { w, h },
  );
  if (repeat) Object.assign(p, { repeat, repeatDirection: 'h', maxPerRow: 2 });
  p.fieldConfig = {
    defaults: {
      custom: { scaleDistribution: { type: 'linear' }, hideFrom: { legend: false, tooltip: false, viz: false } },
    },
    overrides: [],
  };
  p.options = {
    calculate: false,
    cellGap: 1,
    color: {
      mode: 'scheme',
      scheme: 'Oranges',
      fill: 'dark-orange',
      scale: 'exponential',
      exponent: 0.5,
      steps: 64,
      reverse: false,
    },
    exemplars: { color: 'rgba(255,0,255,0.7)' },
    filterValues: { le: 1e-9 },
    legend: { show: true },
    rowsFrame: { layout: 'le' },
    showValue: 'never',
    tooltip: { mode: 'single', yHistogram: true, showColorScale: false },
    yAxis: { axisPlacement: 'left', unit: 's', reverse: false },
  };
  return p;
}

export function bargauge(title, description, targets, { w = 12, h = 10, unit = 'short' } = {}) {
  const p = base('bargauge', title, description, targets, { w, h });
  p.fieldConfig = {
    defaults: { unit, min: 0, thresholds: { mode: 'absolute', steps: [{ color: 'blue', value: null }] } },
    overrides: [],
  };
  p.options = {
    orientation: 'horizontal',
    displayMode: 'basic',
    showUnfilled: true,
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
  };
  return p;
}

export function text(title, content, { w = 12, h = 10 } = {}) {
  const p = base('text', title, '', null, { w, h });
  p.options = { mode: 'markdown', content };
  return p;
}

export function row(title) {
  return { type: 'row', title, collapsed: false, panels: [], gridPos: { w: 24, h: 1 } };
}

/** Give panels ids and grid positions, left to right, wrapping at 24 columns. */
export function layout(panels) {
  let x = 0;
  let y = 0;
  let rowH = 0;
  let id = 1;
  const repeatWidth = (p) => (p.repeat ? 24 : p.gridPos.w);
  return panels.map((p) => {
    const w = p.gridPos.w;
    if (p.type === 'row' || x + repeatWidth(p) > 24) {
      y += rowH;
      x = 0;
      rowH = 0;
    }
    const placed = { id: id++, ...p, gridPos: { h: p.gridPos.h, w, x, y } };
    x += repeatWidth(p);
    rowH = Math.max(rowH, p.gridPos.h);
    if (p.type === 'row') {
      y += 1;
      rowH = 0;
      x = 0;
    }
    return placed;
  });
}
