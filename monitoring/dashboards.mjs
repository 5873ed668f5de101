/**
 * Grafana dashboards for Sightline, built from monitoring/config.mjs as plain JSON models
 * (schemaVersion 39). Every query goes through the `datasource` template variable
 * ({ type: 'prometheus', uid: '${datasource}' }), so file provisioning works with any datasource
 * uid. `dashboards(config)` gives the models, `renderDashboards(config)` the file texts, and
 * `panelExpressions(models)` every panel query for a live test to run.
 */
import { SCHEMA_VERSION } from './dashboard-frame.mjs';
import { forensics } from './dashboard-forensics.mjs';
import { overview } from './dashboard-overview.mjs';
import { routeDetail } from './dashboard-route-detail.mjs';

export { SCHEMA_VERSION };

/** The dashboard models, by file name. */
export function dashboards(c) {
  return {
    'sightline-overview.json': overview(c),
    'sightline-disconnect-forensics.json': forensics(c),
    'sightline-route-detail.json': routeDetail(c),
  };
}

/** The dashboard files' texts, by file name (grafana/dashboards/<name>). */
export function renderDashboards(c) {
  return Object.fromEntries(
    Object.entries(dashboards(c)).map(([name, d]) => [name, `${JSON.stringify(d, null, 2)}\n`]),
  );
}

function* allPanels(panels) {
  for (const p of panels ?? []) {
    yield p;
    if (p.type === 'row') yield* allPanels(p.panels);
  }
}

/**
 * Every panel query, as written (`$__rate_interval`, `$__range`, `$route` left for the caller to
 * substitute). `models`: what dashboards() returns (or renderDashboards(): texts are parsed), or
 * an array of dashboard models. Each entry: { dashboard (uid), panel (title), panelId, type,
 * refId, expr, instant, format }.
 */
export function panelExpressions(models) {
  const list = Array.isArray(models) ? models : Object.values(models);
  const out = [];
  for (const raw of list) {
    const d = typeof raw === 'string' ? JSON.parse(raw) : raw;
    for (const p of allPanels(d.panels)) {
      for (const t of p.targets ?? []) {
        if (typeof t.expr !== 'string') continue;
        out.push({
          dashboard: d.uid,
          panel: p.title,
          panelId: p.id,
          type: p.type,
          refId: t.refId,
          expr: t.expr,
          instant: t.instant === true,
          format: t.format ?? 'time_series',
        });
      }
    }
  }
  return out;
}
