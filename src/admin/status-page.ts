/**
 * The status page's markup and stylesheet, embedded as strings so `dist/` needs no asset copy.
 * No inline script or style: the page runs under a strict CSP and loads `status.js` and
 * `status.css` from the admin server itself. Ids the script (and the tests) use: `#stats`,
 * `#patterns`, `#routes`, `#closes`, `#connections`, `#updated`, `#problem`.
 */

export const STATUS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Sightline status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="status.css">
<script src="status.js" defer></script>
</head>
<body>
<header>
  <h1>Sightline</h1>
  <span id="updated" class="muted">loading…</span>
  <span id="problem" class="problem" hidden></span>
</header>
<main>
  <section>
    <h2>Detected disconnect patterns</h2>
    <ul id="patterns" class="patterns"><li class="muted">none</li></ul>
  </section>
  <section>
    <h2>Totals</h2>
    <dl id="stats" class="stats"></dl>
  </section>
  <section>
    <h2>Routes</h2>
    <table id="routes">
      <thead><tr><th>name</th><th>ports</th><th>domains</th><th>mode</th><th>protocol</th><th>target</th><th class="num">active</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Close reasons per minute</h2>
    <div id="closes">
      <svg id="closes-chart" class="chart" preserveAspectRatio="xMinYMid meet" role="img" aria-label="closes per minute by reason"></svg>
      <div id="closes-legend" class="legend"></div>
      <table id="closes-table"><thead></thead><tbody></tbody></table>
    </div>
  </section>
  <section>
    <h2>Open connections <span id="connections-count" class="muted"></span></h2>
    <table id="connections">
      <thead><tr><th class="num">id</th><th>route</th><th>client</th><th>SNI</th><th>target</th><th class="num">age</th><th class="num">idle</th><th class="num">bytes in / out</th><th>phase</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
</body>
</html>
`;

export const STATUS_CSS = `:root { color-scheme: light dark; --fg: #1d232a; --muted: #6b7580; --line: #d8dde3; --hl: #fff3c4; --hl-line: #e0a800; --bad: #b3261e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e3e7eb; --muted: #99a3ad; --line: #39424b; --hl: #3d3413; --hl-line: #c99700; --bad: #ff8a80; } }
body { font: 14px/1.4 system-ui, sans-serif; color: var(--fg); margin: 0 1.5rem 2rem; }
header { display: flex; gap: 1rem; align-items: baseline; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.3rem; margin: .6rem 0; }
h2 { font-size: 1.05rem; margin: 1.4rem 0 .5rem; }
.muted { color: var(--muted); }
.problem { color: var(--bad); font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .2rem .6rem .2rem 0; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-weight: 600; color: var(--muted); }
.num { text-align: right; }
td.wrap { white-space: normal; word-break: break-all; }
.patterns { list-style: none; padding: 0; margin: 0; }
.pattern { background: var(--hl); border-left: 4px solid var(--hl-line); padding: .4rem .7rem; margin: .3rem 0; font-weight: 600; }
.stats { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: 0; }
.stats dt { color: var(--muted); }
.stats dd { margin: 0; font-variant-numeric: tabular-nums; }
.chart { width: 100%; max-width: 60rem; height: 140px; display: block; }
.chart text { fill: var(--muted); font-size: 10px; }
.legend { display: flex; flex-wrap: wrap; gap: .2rem 1rem; margin: .3rem 0 .6rem; font-size: 12px; }
.legend svg { width: 10px; height: 10px; margin-right: .3rem; }
`;
