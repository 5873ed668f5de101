#!/usr/bin/env node
// docs/metrics.md from the metric catalogue (src/telemetry/metric-catalogue.ts), so the reference
// cannot drift: `node scripts/gen-metrics-doc.mjs` rewrites it from dist/ (build first);
// test/unit/telemetry/metric-catalogue.test.ts renders it from src/ and compares.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The page for a list of { name, type, help, labels }. */
export function renderMetricsDoc(metrics) {
  let out = `# Metrics

Everything Sightline exposes on the admin listener's \`/metrics\` (Prometheus text format, or
OpenMetrics with exemplars when the scraper asks for \`application/openmetrics-text\`). Generated
from \`src/telemetry/metric-catalogue.ts\` by \`node scripts/gen-metrics-doc.mjs\`;
\`test/unit/telemetry/metric-catalogue.test.ts\` keeps this page and a live scrape in step with it.

Label values come only from bounded sets: route names (configuration; \`none\` before routing),
listener ports, close reasons, initiators (\`client\`, \`backend\`, \`proxy\`), keep-alive
treatments, HTTP status classes and WebSocket close-code classes. Client addresses, SNI names,
Host headers and paths never become labels (they are in the access log and the spans).

| metric | type | labels | meaning |
|---|---|---|---|
`;
  for (const m of metrics)
    out += `| \`${m.name}\` | ${m.type} | ${m.labels.map((l) => `\`${l}\``).join(', ') || '—'} | ${m.help.replace(/\|/g, '\\|')} |\n`;
  out += `
Also exported: the Node.js process and event-loop metrics of prom-client (\`process_*\`,
\`nodejs_*\`, collected once per process), without the three \`nodejs_active_*_total\` gauges
that \`promtool check metrics\` rejects for their names.

Duration and idle-at-close histograms use bucket edges that bracket the disconnect fingerprints
(\`FINGERPRINT_BUCKETS_SECONDS\` in \`src/telemetry/fingerprints.ts\`): a connection that dies at
30 s lands between the 28 s and 32 s edges, one at 60 s between 58 s and 62 s, and so on.
`;
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { METRICS } = await import('../dist/telemetry/metric-catalogue.js');
  writeFileSync(new URL('../docs/metrics.md', import.meta.url), renderMetricsDoc(METRICS));
}
