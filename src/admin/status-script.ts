/**
 * The status page's script, embedded as a string (no build step, `dist/` needs no asset copy) and
 * served as `/status.js` so the page's CSP can forbid inline script. Every 2 s it fetches the
 * admin API, sending the page URL's `?token=` as a Bearer header, and redraws the sections with
 * DOM calls only (`textContent`, never `innerHTML`: SNI and client addresses come from clients).
 * Plain browser JavaScript: no backticks or template placeholders, so it fits in `String.raw`.
 */

export const STATUS_JS = String.raw`'use strict';
(() => {
  const REFRESH_MS = 2000;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const MAX_STATS = 200;
  const TABLE_MINUTES = 10;
  const token = new URLSearchParams(location.search).get('token');
  const headers = token ? { Authorization: 'Bearer ' + token } : {};
  const $ = (id) => document.getElementById(id);
  let refreshes = 0;

  async function get(path) {
    const r = await fetch(path, { headers, cache: 'no-store' });
    if (!r.ok) {
      let msg = 'HTTP ' + r.status;
      try {
        const b = await r.json();
        if (b && b.error) msg += ' ' + b.error;
      } catch (_) { /* not JSON */ }
      throw new Error(path + ': ' + msg);
    }
    return r.json();
  }

  // ---- formatting
  const pad = (n) => (n < 10 ? '0' + n : String(n));
  function dur(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return '–';
    if (ms < 1000) return Math.round(ms) + ' ms';
    const s = ms / 1000;
    if (s < 60) return s.toFixed(1) + ' s';
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
  const text = (v) => (v === null || v === undefined ? '–' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  function hue(s) {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) % 360;
    return 'hsl(' + h + ', 60%, 50%)';
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
      const td = el('td', emptyText, 'muted');
      td.colSpan = 20;
      rows = [row([td])];
    }
    table.tBodies[0].replaceChildren(...rows);
  }
  function svg(tag, attrs, content) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    if (content !== undefined) e.textContent = content;
    return e;
  }

  // ---- sections
  function renderPatterns(list) {
    const ul = $('patterns');
    if (list.length === 0) { ul.replaceChildren(el('li', 'none detected', 'muted')); return; }
    ul.replaceChildren(...list.map((p) => {
      let summary = typeof p.summary === 'string' ? p.summary : typeof p.message === 'string' ? p.message : null;
      if (summary === null) summary = Object.entries(p).map(([k, v]) => k + '=' + text(v)).join(', ');
      const li = el('li', summary, 'pattern');
      if (typeof p.route === 'string') li.dataset.route = p.route;
      return li;
    }));
  }

  function renderStats(stats) {
    const out = [];
    const walk = (v, key, depth) => {
      if (out.length >= MAX_STATS * 2) return;
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 3) {
        for (const [k, x] of Object.entries(v)) walk(x, key ? key + '.' + k : k, depth + 1);
        return;
      }
      out.push(el('dt', key), el('dd', typeof v === 'number' ? v.toLocaleString() : v));
    };
    walk(stats, '', 0);
    $('stats').replaceChildren(...out);
  }

  function renderRoutes(routes) {
    fillBody($('routes'), routes.map((r) => {
      const tr = row([r.name, (r.ports || []).join(', '), (r.domains || []).join(', ') || '*', r.mode, r.protocol, r.target, num(r.active)]);
      tr.dataset.route = r.name;
      return tr;
    }), 'no routes');
  }

  function renderConnections(c) {
    const items = c.items.slice().sort((a, b) => b.ageMs - a.ageMs);
    fillBody($('connections'), items.map((x) => {
      const client = (String(x.client).includes(':') ? '[' + x.client + ']' : x.client) + ':' + x.clientPort;
      const tr = row([num(x.id), x.route === null ? '–' : x.route, client, x.sni === null ? '' : x.sni, x.target === null ? '' : x.target,
        num(dur(x.ageMs)), num(dur(x.idleMs)), num(bytes(x.bytesIn) + ' / ' + bytes(x.bytesOut)), x.phase]);
      tr.dataset.connectionId = String(x.id);
      return tr;
    }), 'no open connections');
    $('connections-count').textContent = '(' + (c.total > items.length ? 'oldest ' + items.length + ' of ' : '') + c.total + ')';
  }

  function renderCloses(rc) {
    const buckets = rc.buckets || [];
    const totals = new Map();
    for (const b of buckets) for (const [reason, n] of Object.entries(b.byReason)) totals.set(reason, (totals.get(reason) || 0) + n);
    const reasons = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a) || (a < b ? -1 : 1));

    // Chart: one stacked bar per bucket, oldest on the left.
    const W = 600, H = 140, BOTTOM = 16, TOP = 12;
    const chart = $('closes-chart');
    chart.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    const parts = [];
    const max = Math.max(1, ...buckets.map((b) => Object.values(b.byReason).reduce((s, n) => s + n, 0)));
    const slot = buckets.length ? W / buckets.length : W;
    const barW = Math.max(1, slot * 0.8);
    buckets.forEach((b, i) => {
      let y = H - BOTTOM;
      for (const reason of reasons) {
        const n = b.byReason[reason] || 0;
        if (!n) continue;
        const h = (n / max) * (H - BOTTOM - TOP);
        y -= h;
        const rect = svg('rect', { x: i * slot + (slot - barW) / 2, y, width: barW, height: h, fill: hue(reason) });
        rect.append(svg('title', {}, hhmm(b.start) + ' ' + reason + ': ' + n));
        parts.push(rect);
      }
      if (i % Math.max(1, Math.ceil(buckets.length / 8)) === 0) parts.push(svg('text', { x: i * slot + 1, y: H - 3 }, hhmm(b.start)));
    });
    parts.push(svg('text', { x: 1, y: 10 }, 'max ' + max + ' / ' + Math.round((rc.bucketMs || 60000) / 1000) + ' s'));
    if (reasons.length === 0) parts.push(svg('text', { x: W / 2 - 30, y: H / 2 }, 'no closes yet'));
    chart.replaceChildren(...parts);

    $('closes-legend').replaceChildren(...reasons.map((reason) => {
      const item = el('span');
      const sw = svg('svg', { viewBox: '0 0 10 10' });
      sw.append(svg('rect', { width: 10, height: 10, fill: hue(reason) }));
      item.append(sw, document.createTextNode(reason));
      return item;
    }));

    // Table: the last minutes, one row per reason.
    const recent = buckets.slice(-TABLE_MINUTES);
    const table = $('closes-table');
    table.tHead.replaceChildren(row([el('th', 'reason'), ...recent.map((b) => el('th', hhmm(b.start), 'num')), el('th', 'total', 'num')]));
    fillBody(table, reasons.map((reason) => {
      const tr = row([reason, ...recent.map((b) => num(b.byReason[reason] || '')), num(totals.get(reason))]);
      tr.dataset.reason = reason;
      return tr;
    }), 'no closes in this window');
  }

  // ---- loop
  async function refresh() {
    try {
      if (!document.hidden) {
        const [stats, routes, conns, closes, patterns] = await Promise.all([
          get('api/stats'), get('api/routes'), get('api/connections?limit=100'), get('api/closes'), get('api/patterns'),
        ]);
        renderPatterns(patterns.patterns || []);
        renderStats(stats);
        renderRoutes(routes.routes || []);
        renderCloses(closes);
        renderConnections(conns);
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
