/**
 * The status page's script, embedded as a string (no build step, `dist/` needs no asset copy) and
 * served as `/status.js` so the page's CSP can forbid inline script. Every 2 s it fetches the
 * admin API, sending the page URL's `?token=` as a Bearer header, and redraws the sections with
 * DOM calls only (`textContent`, never `innerHTML`: SNI and client addresses come from clients).
 * Charts are status-charts.js's (uPlot). A connection's id is a button: Enter or a click opens
 * its detail (`/api/connection`), Escape closes it and gives the focus back.
 * Plain browser JavaScript: no backticks or template placeholders, so it fits in `String.raw`.
 */

export const STATUS_JS = String.raw`'use strict';
(() => {
  const REFRESH_MS = 2000;
  const TABLE_MINUTES = 10;
  const WINDOW_MINUTES = 15;
  const token = new URLSearchParams(location.search).get('token');
  const headers = token ? { Authorization: 'Bearer ' + token } : {};
  const $ = (id) => document.getElementById(id);
  const Charts = window.SightlineCharts;
  const fmtAge = Charts.fmtAge;
  const state = { route: null, userChoseRoute: false, closeAges: null, openAges: null, patterns: [], detailId: null, detailOpener: null };
  const charts = { ages: Charts.ages($('ages-chart')), open: Charts.openAges($('open-chart')), closes: Charts.closes($('closes-chart')) };
  window.SightlineStatus = { charts, state };
  let refreshes = 0;

  async function get(path) {
    const r = await fetch(path, { headers, cache: 'no-store' });
    if (!r.ok) {
      let msg = 'HTTP ' + r.status;
      try {
        const b = await r.json();
        if (b && b.error) msg += ' ' + b.error;
      } catch (_) { /* not JSON */ }
      const e = new Error(path + ': ' + msg);
      e.status = r.status;
      throw e;
    }
    return r.json();
  }

  // ---- formatting
  const pad = (n) => (n < 10 ? '0' + n : String(n));
  /** A duration in a table: 850 ms, 12.3 s, 2m 44s, 1h 05m. */
  function dur(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return '–';
    if (ms < 1000) return Math.round(ms) + ' ms';
    const s = ms / 1000;
    if (s < 60) return (Math.round(s * 10) / 10) + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + pad(Math.floor(s % 60)) + 's';
    return Math.floor(m / 60) + 'h ' + pad(m % 60) + 'm';
  }
  function bytes(n) {
    if (typeof n !== 'number' || !isFinite(n)) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + units[i];
  }
  const hhmm = (ms) => { const d = new Date(ms); return pad(d.getHours()) + ':' + pad(d.getMinutes()); };
  const clock = (ms) => { const d = new Date(ms); return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + String(d.getMilliseconds()).padStart(3, '0'); };
  const text = (v) => (v === null || v === undefined ? '–' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const count = (n) => (typeof n === 'number' ? n.toLocaleString() : text(n));
  function uptime(s) {
    if (typeof s !== 'number') return '–';
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return d > 0 ? d + 'd ' + h + 'h' : h > 0 ? h + 'h ' + pad(m) + 'm' : m + 'm ' + pad(Math.floor(s % 60)) + 's';
  }

  // ---- DOM helpers
  function el(tag, content, cls) {
    const e = document.createElement(tag);
    if (content !== undefined) e.textContent = text(content);
    if (cls) e.className = cls;
    return e;
  }
  const num = (v) => el('td', v, 'num');
  function row(cells) {
    const tr = document.createElement('tr');
    for (const c of cells) tr.append(c instanceof Node ? c : el('td', c));
    return tr;
  }
  function fillBody(table, rows, emptyText) {
    if (rows.length === 0) {
      const td = el('td', emptyText, 'empty');
      td.colSpan = table.tHead && table.tHead.rows[0] ? table.tHead.rows[0].cells.length || 1 : 1;
      rows = [row([td])];
    }
    table.tBodies[0].replaceChildren(...rows);
  }
  /** Text with its backticked parts as code elements (the detector's culprits name settings). */
  function withCode(s) {
    const out = [];
    String(s).split('\u0060').forEach((part, i) => { if (part) out.push(i % 2 ? el('code', part) : document.createTextNode(part)); });
    return out;
  }
  function kv(dl, pairs) {
    dl.replaceChildren(...pairs.flatMap(([k, v]) => [el('dt', k), v instanceof Node ? (() => { const dd = el('dd'); dd.append(v); return dd; })() : el('dd', v)]));
  }
  function idButton(id) {
    const b = el('button', id, 'link');
    b.type = 'button';
    b.dataset.connectionId = String(id);
    b.setAttribute('aria-label', 'details of connection ' + id);
    return b;
  }

  // ---- sections
  const ageClustered = (p) => p.kind === 'age-clustered' && typeof p.periodMs === 'number';

  function renderPatterns(list) {
    const ul = $('patterns');
    if (list.length === 0) { ul.replaceChildren(el('li', 'none detected', 'muted')); return; }
    ul.replaceChildren(...list.map((p) => {
      const li = el('li', undefined, 'pattern');
      if (typeof p.route === 'string') li.dataset.route = p.route;
      const head = el('div', undefined, 'headline');
      if (typeof p.periodMs === 'number' && typeof p.route === 'string') {
        const what = ageClustered(p) ? 'connections close at an age of ' : 'closes come every ';
        const spread = p.spreadMs >= 50 ? ' ± ' + fmtAge(p.spreadMs / 1000) : '';
        head.textContent = 'Route ' + p.route + ': ' + what + fmtAge(p.periodMs / 1000) + spread +
          ' (' + count(p.count) + ' closes, ' + text(p.timer) + ', mostly by the ' + text(p.initiator) + ')';
      } else head.append(...withCode(p.summary || p.message || JSON.stringify(p)));
      li.append(head);
      if (Array.isArray(p.culprits) && p.culprits.length) {
        const cl = el('ul');
        cl.append(...p.culprits.map((c) => { const x = el('li'); x.append(...withCode(c)); return x; }));
        li.append(el('span', 'Likely culprits:', 'muted'), cl);
      }
      return li;
    }));
  }

  const POOL_LABELS = [['pools', 'pools'], ['open', 'open sockets'], ['idle', 'idle sockets'], ['waiting', 'waiting requests'], ['created', 'sockets created'], ['reused', 'reuses'], ['expired', 'expired'], ['detached', 'detached']];

  function renderTotals(stats, routes) {
    const t = stats.terminations || {};
    const cards = [
      ['Open now', count(stats.active)],
      ['Accepted', count(stats.accepted)],
      ['Closed', count(t.total)],
      ['Uptime', uptime(stats.uptimeSeconds)],
      ['State', stats.draining ? 'draining' : 'serving'],
      ['Version', text(stats.version)],
      // What access lines, spans and progress records call configGeneration (+ the file's hash).
      ['Configuration', 'generation ' + text(stats.configGeneration) + (stats.configHash ? ' · ' + text(stats.configHash) : '')],
    ];
    $('totals').replaceChildren(...cards.map(([k, v]) => { const d = el('div'); d.append(el('dt', k), el('dd', v)); return d; }));
    const by = t.byReason || {};
    const reasons = Object.keys(by).map((r) => {
      const m = by[r] || {};
      const n = (w) => (typeof m[w] === 'number' ? m[w] : 0);
      return { r, client: n('client'), backend: n('backend'), proxy: n('proxy'), total: Object.values(m).reduce((s, x) => s + (typeof x === 'number' ? x : 0), 0) };
    }).sort((a, b) => b.total - a.total || (a.r < b.r ? -1 : 1));
    fillBody($('reasons'), reasons.map((x) => {
      const tr = row([x.r, num(x.client ? count(x.client) : ''), num(x.backend ? count(x.backend) : ''), num(x.proxy ? count(x.proxy) : ''), num(count(x.total))]);
      tr.dataset.reason = x.r;
      return tr;
    }), 'no closes yet');
    const pools = stats.upstreamPools;
    const http = routes.some((r) => r.protocol === 'http');
    $('pools').hidden = !(http && pools && typeof pools === 'object');
    if (!$('pools').hidden) $('pools-list').replaceChildren(...POOL_LABELS.map(([k, label]) => { const d = el('div'); d.append(el('dt', label), el('dd', count(pools[k]))); return d; }));
  }

  function renderRouteSelect(routes, closeAges) {
    const sel = $('route-select');
    const names = routes.map((r) => r.name);
    if (!state.userChoseRoute || !names.includes(state.route)) {
      // The route a pattern names first, else the one with most recent closes, else the first.
      const withPattern = state.patterns.find((p) => names.includes(p.route));
      const busiest = (closeAges.routes || []).filter((r) => names.includes(r.route)).sort((a, b) => b.total - a.total)[0];
      state.route = withPattern ? withPattern.route : busiest ? busiest.route : names[0] || null;
    }
    const current = Array.from(sel.options).map((o) => o.value).join('\n');
    if (current !== names.join('\n')) sel.replaceChildren(...names.map((n) => { const o = el('option', n); o.value = n; return o; }));
    if (state.route !== null) sel.value = state.route;
  }

  function renderRouteCharts() {
    const route = state.route;
    const ca = state.closeAges, oa = state.openAges;
    if (!ca || !oa) return;
    const zeros = () => ca.edgesMs.slice(1).map(() => 0);
    const entry = (ca.routes || []).find((r) => r.route === route);
    const counts = entry ? entry.counts : zeros();
    const marks = state.patterns.filter((p) => p.route === route && ageClustered(p)).map((p) => ({ s: p.periodMs / 1000, label: 'pattern ' + fmtAge(p.periodMs / 1000) }));
    charts.ages.update(ca.edgesMs, counts, marks);
    $('ages-chart').dataset.route = route || '';
    let peak = -1;
    counts.forEach((n, i) => { if (peak < 0 || n > counts[peak]) peak = i; });
    $('ages-note').textContent = entry && entry.total > 0
      ? count(entry.total) + ' closes in the last ' + WINDOW_MINUTES + ' min; the most between ' + fmtAge(ca.edgesMs[peak] / 1000) + ' and ' + fmtAge(ca.edgesMs[peak + 1] / 1000) + '.'
      : 'No closes on this route in the last ' + WINDOW_MINUTES + ' min.';
    const range = (edges, i) => fmtAge(edges[i] / 1000) + ' – ' + fmtAge(edges[i + 1] / 1000);
    fillBody($('ages-table'), counts.map((n, i) => (n > 0 ? row([range(ca.edgesMs, i), num(count(n))]) : null)).filter(Boolean), 'no closes');
    const open = (oa.routes || []).find((r) => r.route === route);
    fillBody($('open-table'), open ? open.age.map((n, i) => (n > 0 || open.idle[i] > 0 ? row([range(oa.edgesMs, i), num(n ? count(n) : ''), num(open.idle[i] ? count(open.idle[i]) : '')]) : null)).filter(Boolean) : [], 'no open connections');
    charts.open.update(oa.edgesMs, open ? open.age : zeros(), open ? open.idle : zeros());
    $('open-chart').dataset.route = route || '';
    $('open-note').textContent = open ? count(open.total) + ' open connection' + (open.total === 1 ? '' : 's') + ' on this route.' : 'No open connections on this route.';
    const r = (state.routes || []).find((x) => x.name === route);
    $('route-summary').textContent = r ? r.mode + ' / ' + r.protocol + ' → ' + r.target + ', ' + r.active + ' open' : '';
  }

  function renderRoutes(routes) {
    fillBody($('routes'), routes.map((r) => {
      const tr = row([r.name, (r.ports || []).join(', '), (r.domains || []).join(', ') || '*', r.mode, r.protocol, r.target, num(r.active)]);
      tr.dataset.route = r.name;
      return tr;
    }), 'no routes');
  }

  function clientOf(x) {
    return (String(x.client).includes(':') ? '[' + x.client + ']' : x.client) + ':' + x.clientPort;
  }

  function renderConnections(c) {
    const items = c.items.slice().sort((a, b) => b.ageMs - a.ageMs);
    fillBody($('connections'), items.map((x) => {
      const idCell = el('td', undefined, 'num');
      idCell.append(idButton(x.id));
      const tr = row([idCell, x.route, clientOf(x), x.sni, x.target, num(dur(x.ageMs)), num(dur(x.idleMs)), num(bytes(x.bytesIn) + ' / ' + bytes(x.bytesOut)), x.phase]);
      tr.dataset.connectionId = String(x.id);
      return tr;
    }), 'no open connections');
    $('connections-count').textContent = '(' + (c.total > items.length ? 'oldest ' + items.length + ' of ' : '') + c.total + ')';
  }

  function renderRecent(items) {
    fillBody($('recent'), items.map((x) => {
      const idCell = el('td', undefined, 'num');
      idCell.append(idButton(x.id));
      const tr = row([idCell, x.route, hhmm(x.closedAt) + ':' + pad(new Date(x.closedAt).getSeconds()), num(dur(x.durationMs)), num(dur(x.idleAtCloseMs)), x.reason, x.initiator, x.endKind]);
      tr.dataset.closeId = String(x.id);
      return tr;
    }), 'no closes yet');
  }

  function renderCloses(rc) {
    const buckets = rc.buckets || [];
    const bucketMs = rc.bucketMs || 60000;
    charts.closes.update(bucketMs, buckets, typeof rc.now === 'number' ? rc.now : Date.now(), WINDOW_MINUTES);
    const totals = new Map();
    for (const b of buckets) for (const [reason, n] of Object.entries(b.byReason)) totals.set(reason, (totals.get(reason) || 0) + n);
    const reasons = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a) || (a < b ? -1 : 1));
    const recent = buckets.slice(-TABLE_MINUTES);
    const table = $('closes-table');
    const th = (t, cls) => { const h = el('th', t, cls); h.scope = 'col'; return h; };
    table.tHead.replaceChildren(row([th('reason'), ...recent.map((b) => th(hhmm(b.start), 'num')), th('total', 'num')]));
    fillBody(table, reasons.map((reason) => {
      const tr = row([reason, ...recent.map((b) => num(b.byReason[reason] || '')), num(totals.get(reason))]);
      tr.dataset.reason = reason;
      return tr;
    }), 'no closes in this window');
  }

  // ---- one connection's detail
  function renderDetail(d) {
    const c = d.connection, x = d.close;
    $('detail-id').textContent = String(state.detailId);
    $('detail-state').textContent = d.state;
    const src = c || x;
    kv($('detail-fields'), [
      ['route', text(src.route)], ['client', clientOf(src)], ['listener port', text(src.listenPort)], ['SNI', text(src.sni)], ['target', text(src.target)],
      ...(c ? [['phase', c.phase], ['TLS', c.tls ? 'yes' : 'no'], ['keep-alive treatment', c.keepAliveTreatment], ['age', dur(c.ageMs)], ['idle', dur(c.idleMs)], ['bytes in / out', bytes(c.bytesIn) + ' / ' + bytes(c.bytesOut)]] : [['mode', text(x.mode)]]),
    ]);
    const t0 = d.milestones.length ? d.milestones[0].at : 0;
    $('detail-milestones').replaceChildren(...d.milestones.map((m) => el('li', clock(m.at) + '  (+' + dur(m.at - t0) + ')  ' + m.name)));
    if (x) {
      kv($('detail-close'), [
        ['reason', x.reason], ['initiator', x.initiator], ['first side to end', text(x.firstSide)], ['how', x.endKind], ['phase at close', x.phase],
        ['age at close', dur(x.durationMs)], ['idle at close', dur(x.idleAtCloseMs)], ['bytes in / out', bytes(x.bytesIn) + ' / ' + bytes(x.bytesOut)], ['error', text(x.error)],
        ...(x.http ? [['HTTP requests', count(x.http.requests)]] : []),
        ...(x.websocket ? [['WebSocket close code', text(x.websocket.closeCode)], ['WebSocket closed by', text(x.websocket.closedBy)]] : []),
      ]);
    } else kv($('detail-close'), [['status', 'still open']]);
  }

  async function openDetail(id, opener) {
    state.detailId = id;
    state.detailOpener = opener || null;
    const t = opener ? opener.closest('table') : null;
    state.detailTable = t ? t.id : null;
    const sec = $('detail');
    try {
      renderDetail(await get('api/connection?id=' + encodeURIComponent(id)));
    } catch (e) {
      $('detail-id').textContent = String(id);
      $('detail-state').textContent = e.status === 404 ? 'gone' : 'error';
      kv($('detail-fields'), [['', e.status === 404 ? 'This connection is neither open nor among the recent closes.' : String(e.message)]]);
      $('detail-milestones').replaceChildren();
      $('detail-close').replaceChildren();
    }
    sec.hidden = false;
    sec.focus();
  }
  function closeDetail() {
    $('detail').hidden = true;
    state.detailId = null;
    // The tables are redrawn every refresh: find the opener's successor (same table, same id).
    const o = state.detailOpener;
    let target = o && document.contains(o) ? o : null;
    if (!target && o) {
      const sel = 'button[data-connection-id="' + o.dataset.connectionId + '"]';
      target = (state.detailTable ? document.querySelector('#' + state.detailTable + ' ' + sel) : null) || document.querySelector(sel);
    }
    if (target) target.focus();
  }
  document.addEventListener('click', (ev) => {
    const b = ev.target instanceof Element ? ev.target.closest('button[data-connection-id]') : null;
    if (b) openDetail(Number(b.dataset.connectionId), b);
  });
  $('detail-dismiss').addEventListener('click', closeDetail);
  document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape' && !$('detail').hidden) closeDetail(); });
  $('route-select').addEventListener('change', (ev) => {
    state.route = ev.target.value;
    state.userChoseRoute = true;
    renderRouteCharts();
  });

  // ---- loop
  async function refresh() {
    try {
      if (!document.hidden) {
        const [stats, routes, conns, closes, patterns, closeAges, openAges, recent] = await Promise.all([
          get('api/stats'), get('api/routes'), get('api/connections?limit=100'), get('api/closes'), get('api/patterns'),
          get('api/close-ages'), get('api/open-ages'), get('api/recent-closes?limit=25'),
        ]);
        state.patterns = patterns.patterns || [];
        state.routes = routes.routes || [];
        state.closeAges = closeAges;
        state.openAges = openAges;
        renderPatterns(state.patterns);
        renderTotals(stats, state.routes);
        renderRouteSelect(state.routes, closeAges);
        renderRouteCharts();
        renderCloses(closes);
        renderRoutes(state.routes);
        renderConnections(conns);
        renderRecent(recent.items || []);
        if (state.detailId !== null && !$('detail').hidden) {
          try { renderDetail(await get('api/connection?id=' + state.detailId)); } catch (_) { /* gone from the ring: keep what is shown */ }
        }
        refreshes++;
        document.body.dataset.refreshes = String(refreshes);
        $('updated').textContent = 'updated ' + new Date().toLocaleTimeString() + ', every ' + REFRESH_MS / 1000 + ' s';
        $('problem').hidden = true;
      }
    } catch (e) {
      const p = $('problem');
      p.textContent = 'stale: ' + (e && e.message ? e.message : String(e));
      p.hidden = false;
    } finally {
      setTimeout(refresh, REFRESH_MS);
    }
  }
  refresh();
})();
`;
