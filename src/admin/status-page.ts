/**
 * The status page's markup and stylesheet, embedded as strings so `dist/` needs no asset copy.
 * No inline script or style: the page runs under a strict CSP (respond.ts PAGE_CSP) and loads
 * `status.css`, `status-charts.js`, `status.js` and uPlot (`vendor/`, vendor.ts) from the admin
 * server itself. Light and dark follow `prefers-color-scheme`; every control is a native
 * focusable element (select, buttons), tables have header cells, focus is always visible.
 * Ids the scripts and the tests use: `#patterns`, `#totals`, `#reasons`, `#pools`,
 * `#route-select`, `#ages-chart`, `#open-chart`, `#closes-chart`, `#closes-table`, `#routes`,
 * `#connections`, `#recent`, `#detail`, `#updated`, `#problem`.
 */

export const STATUS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>Sightline status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="vendor/uplot.css">
<link rel="stylesheet" href="status.css">
<script src="vendor/uplot.js" defer></script>
<script src="status-charts.js" defer></script>
<script src="status.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <h1>Sightline</h1>
  <span id="updated" class="muted" role="status">loading…</span>
  <span id="problem" class="problem" role="alert" hidden></span>
</header>
<main id="main">
  <section aria-labelledby="h-patterns">
    <h2 id="h-patterns">Detected disconnect patterns</h2>
    <ul id="patterns" class="patterns"><li class="muted">none</li></ul>
  </section>

  <section aria-labelledby="h-totals">
    <h2 id="h-totals">Totals</h2>
    <dl id="totals" class="cards"></dl>
    <div class="scroll">
      <table id="reasons">
        <caption>Closes by reason and initiator, since start</caption>
        <thead><tr><th scope="col">reason</th><th scope="col" class="num">client</th><th scope="col" class="num">backend</th><th scope="col" class="num">proxy</th><th scope="col" class="num">total</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <div id="pools" hidden>
      <h3>Upstream keep-alive pools <span class="muted">(HTTP routes)</span></h3>
      <dl id="pools-list" class="cards small"></dl>
    </div>
  </section>

  <section aria-labelledby="h-route">
    <div class="route-head">
      <h2 id="h-route">Route</h2>
      <label for="route-select" class="sr-only">Route shown in the charts</label>
      <select id="route-select"></select>
      <span id="route-summary" class="muted"></span>
    </div>
    <div class="grid2">
      <figure>
        <figcaption>Age at close, last 15 minutes <span class="muted">(log scale; a dashed line marks a detected pattern)</span></figcaption>
        <div id="ages-chart" class="chart" role="img" aria-label="histogram of connection age at close"></div>
        <p id="ages-note" class="note muted"></p>
        <details class="as-table">
          <summary>Age at close as a table</summary>
          <table id="ages-table"><thead><tr><th scope="col">age</th><th scope="col" class="num">closes</th></tr></thead><tbody></tbody></table>
        </details>
      </figure>
      <figure>
        <figcaption>Open connections: age and idle time <span class="muted">(log scale)</span></figcaption>
        <div id="open-chart" class="chart" role="img" aria-label="histogram of open connections by age and by idle time"></div>
        <p id="open-note" class="note muted"></p>
        <details class="as-table">
          <summary>Open connections as a table</summary>
          <table id="open-table"><thead><tr><th scope="col">time</th><th scope="col" class="num">by age</th><th scope="col" class="num">by idle time</th></tr></thead><tbody></tbody></table>
        </details>
      </figure>
    </div>
  </section>

  <section id="closes" aria-labelledby="h-closes">
    <h2 id="h-closes">Closes per minute by initiator <span class="muted">(all routes)</span></h2>
    <div id="closes-chart" class="chart wide" role="img" aria-label="closes per minute, stacked by initiator"></div>
    <div class="scroll">
      <table id="closes-table">
        <caption>Close reasons, last minutes</caption>
        <thead></thead><tbody></tbody>
      </table>
    </div>
  </section>

  <section aria-labelledby="h-routes">
    <h2 id="h-routes">Routes</h2>
    <div class="scroll">
      <table id="routes">
        <thead><tr><th scope="col">name</th><th scope="col">ports</th><th scope="col">domains</th><th scope="col">mode</th><th scope="col">protocol</th><th scope="col">target</th><th scope="col" class="num">active</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section aria-labelledby="h-conns">
    <h2 id="h-conns">Open connections <span id="connections-count" class="muted"></span></h2>
    <div class="scroll">
      <table id="connections">
        <thead><tr><th scope="col" class="num">id</th><th scope="col">route</th><th scope="col">client</th><th scope="col">SNI</th><th scope="col">target</th><th scope="col" class="num">age</th><th scope="col" class="num">idle</th><th scope="col" class="num">bytes in / out</th><th scope="col">phase</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section aria-labelledby="h-recent">
    <h2 id="h-recent">Recent closes</h2>
    <div class="scroll">
      <table id="recent">
        <thead><tr><th scope="col" class="num">id</th><th scope="col">route</th><th scope="col">closed</th><th scope="col" class="num">age</th><th scope="col" class="num">idle at close</th><th scope="col">reason</th><th scope="col">initiator</th><th scope="col">how</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section id="detail" aria-labelledby="h-detail" tabindex="-1" hidden>
    <div class="detail-head">
      <h2 id="h-detail">Connection <span id="detail-id"></span> <span id="detail-state" class="badge"></span></h2>
      <button type="button" id="detail-dismiss">Close details</button>
    </div>
    <div class="grid2">
      <div>
        <h3>Record</h3>
        <dl id="detail-fields" class="kv"></dl>
      </div>
      <div>
        <h3>Milestones</h3>
        <ol id="detail-milestones" class="milestones"></ol>
        <h3>Close record</h3>
        <dl id="detail-close" class="kv"></dl>
      </div>
    </div>
  </section>
</main>
<footer class="muted">Charts: <a href="vendor/uplot.LICENSE.txt">uPlot</a> (MIT), served by this proxy.</footer>
</body>
</html>
`;

export const STATUS_CSS = `:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1d232a; --muted: #5f6b76; --line: #d8dde3; --card: #f4f6f8; --focus: #2563eb;
  --hl: #fff6d6; --hl-line: #d99a00; --bad: #b3261e; --link: #1d4ed8;
  --c-client: #2563eb; --c-backend: #d97706; --c-proxy: #c2410c; --c-age: #2563eb; --c-idle: #9333ea; --c-mark: #d99a00; --c-grid: #e6e9ed;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111418; --fg: #e3e7eb; --muted: #9aa4ae; --line: #313a43; --card: #1a1f25; --focus: #7cb3ff;
    --hl: #3a3216; --hl-line: #e0b000; --bad: #ff8a80; --link: #8ab8ff;
    --c-client: #60a5fa; --c-backend: #fbbf24; --c-proxy: #fb7185; --c-age: #60a5fa; --c-idle: #c084fc; --c-mark: #f5c542; --c-grid: #262d35;
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; padding: 0 1.25rem 2rem; max-width: 84rem; }
a { color: var(--link); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .4rem .6rem; }
.skip:focus { left: .5rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
header { display: flex; flex-wrap: wrap; gap: .3rem 1rem; align-items: baseline; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.35rem; margin: .7rem 0; }
h2 { font-size: 1.08rem; margin: 1.6rem 0 .6rem; }
h3 { font-size: .95rem; margin: 1rem 0 .4rem; }
.muted { color: var(--muted); font-weight: normal; }
.problem { color: var(--bad); font-weight: 600; }
footer { margin-top: 2rem; font-size: 12px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); padding: .6rem 0 .3rem; }
th, td { text-align: left; padding: .28rem .7rem .28rem 0; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-weight: 600; color: var(--muted); }
.num { text-align: right; }
td.empty { color: var(--muted); }
button { font: inherit; color: inherit; background: var(--card); border: 1px solid var(--line); border-radius: 4px; padding: .2rem .6rem; cursor: pointer; }
button.link { background: none; border: 0; padding: 0; color: var(--link); text-decoration: underline; font-variant-numeric: tabular-nums; }
select { font: inherit; color: var(--fg); background: var(--card); border: 1px solid var(--line); border-radius: 4px; padding: .25rem .5rem; max-width: 100%; }
code { font: 12.5px/1.3 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: color-mix(in srgb, var(--fg) 8%, transparent); padding: 0 .25em; border-radius: 3px; }
.patterns { list-style: none; padding: 0; margin: 0; }
.pattern { background: var(--hl); border-left: 4px solid var(--hl-line); padding: .5rem .8rem; margin: .4rem 0; }
.pattern .headline { font-weight: 600; }
.pattern ul { margin: .3rem 0 0; padding-left: 1.2rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: .6rem; margin: 0; }
.cards div { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .5rem .7rem; }
.cards dt { color: var(--muted); font-size: 12px; }
.cards dd { margin: 0; font-size: 1.25rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.cards.small dd { font-size: 1.05rem; }
.route-head { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: baseline; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 1rem 2rem; }
figure { margin: 0; min-width: 0; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
.chart { width: 100%; min-height: 220px; }
.note { margin: .2rem 0 0; font-size: 12px; }
.as-table { margin-top: .4rem; font-size: 12px; }
.as-table summary { cursor: pointer; color: var(--link); }
.as-table table { width: auto; min-width: 16rem; }
.uplot { font-family: inherit; }
.uplot .u-legend { font-size: 12px; color: var(--fg); }
.uplot .u-legend th { color: var(--fg); }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; }
.kv dt { color: var(--muted); }
.kv dd { margin: 0; font-variant-numeric: tabular-nums; word-break: break-all; }
.milestones { margin: 0; padding-left: 1.3rem; font-variant-numeric: tabular-nums; }
.detail-head { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: baseline; justify-content: space-between; }
#detail { border: 1px solid var(--line); border-radius: 8px; padding: 0 1rem 1rem; margin-top: 1.6rem; background: var(--card); }
.badge { font-size: 12px; font-weight: 600; padding: .05rem .45rem; border-radius: 999px; border: 1px solid var(--line); vertical-align: middle; }
@media (max-width: 40rem) {
  body { padding: 0 .75rem 1.5rem; }
  .chart { min-height: 200px; }
}
`;
