/**
 * The status page's charts, drawn with uPlot (served from the package, vendor.ts) and embedded
 * as a string like status-script.ts (plain browser JavaScript, no backticks). Defines
 * `window.SightlineCharts` with three views:
 *  - `ages(el)`: a histogram of ages on a log-scale axis (one bar per bin of the API's log bins),
 *    with dashed vertical marks (a detected pattern's period);
 *  - `openAges(el)`: the same axis, two bar series side by side (age and idle of open connections);
 *  - `closes(el)`: closes per minute stacked by initiator (client, backend, proxy).
 * Each view keeps what it plotted (`raw`: the API's numbers, before any stacking) next to its
 * uPlot instance (`plot`), so the tests can compare both with the API. Colours come from the
 * page's CSS variables; a change of `prefers-color-scheme` or of the width redraws the chart.
 */

export const STATUS_CHARTS_JS = String.raw`'use strict';
(() => {
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const alpha = (hex, a) => (/^#[0-9a-f]{6}$/i.test(hex) ? hex + a : hex);
  const dpr = () => (window.uPlot && uPlot.pxRatio) || window.devicePixelRatio || 1;

  /** Seconds as a person reads them: 10 ms, 2.5 s, 30 s, 200 s, 5 min, 2 h, 1 d. */
  function fmtAge(s) {
    if (s == null || !isFinite(s)) return '';
    const r = (v) => String(Math.round(v * 10) / 10);
    if (s < 1) return r(s * 1000) + ' ms';
    // Whole minutes or hours read as such; other values up to 1000 s stay in seconds (200 s, not 3.3 min).
    if (s < 60 || (s < 1000 && s % 60 !== 0)) return r(s) + ' s';
    if (s < 3600 || (s < 36000 && s % 3600 !== 0)) return r(s / 60) + ' min';
    if (s < 172800) return r(s / 3600) + ' h';
    return r(s / 86400) + ' d';
  }

  /** Ticks on a log axis: 1-2-5 per decade, thinned to 1-3, decades, or every n-th decade when the axis is short. */
  function logSplits(min, max, width) {
    const room = Math.max(2, Math.floor(width / 70));
    for (const mults of [[1, 2, 5], [1, 3], [1]]) {
      const out = [];
      for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
        for (const m of mults) {
          const v = m * Math.pow(10, e);
          if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
        }
      }
      if (out.length <= room) return out;
    }
    // Still too many: every second, third... decade.
    const lo = Math.ceil(Math.log10(min) - 1e-9), hi = Math.floor(Math.log10(max) + 1e-9);
    for (let step = 2; ; step++) {
      const out = [];
      for (let e = lo; e <= hi; e++) if (e % step === 0) out.push(Math.pow(10, e));
      if (out.length <= room || step > hi - lo) return out;
    }
  }

  function axisStyle() {
    const grid = css('--c-grid');
    return { stroke: css('--muted'), grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '12px system-ui, sans-serif' };
  }
  const intValues = (u, splits) => splits.map((v) => (Number.isInteger(v) ? v.toLocaleString() : ''));
  const yRange = (u, min, max) => [0, Math.max(1, Math.ceil((max || 0) * 1.15))];

  function heightOf(el) {
    return window.innerWidth < 640 ? 200 : 240;
  }

  /** A chart that rebuilds itself on theme or width changes; build(width) returns uPlot options. */
  function view(el, build) {
    const v = { el, plot: null, raw: null, data: null, build };
    v.render = () => {
      if (!window.uPlot || v.data === null) return;
      const width = Math.max(240, Math.floor(el.clientWidth || 600));
      if (v.plot) v.plot.destroy();
      v.plot = new uPlot(build(width, heightOf(el)), v.data, el);
    };
    v.set = (data, raw) => {
      v.data = data;
      v.raw = raw;
      if (v.plot && v.plot.series.length === data.length) {
        v.plot.setData(data);
        v.plot.redraw(false, true);
      } else v.render();
    };
    let lastWidth = 0;
    if (window.ResizeObserver) {
      new ResizeObserver(() => {
        const w = Math.floor(el.clientWidth);
        if (Math.abs(w - lastWidth) > 8) {
          lastWidth = w;
          v.render();
        }
      }).observe(el);
    }
    if (window.matchMedia) matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => v.render());
    return v;
  }

  /** Bin centres (s) of the API's edges (ms): the geometric middle of each bin. */
  const centres = (edgesMs) => edgesMs.slice(0, -1).map((e, i) => Math.sqrt(e * edgesMs[i + 1]) / 1000);

  /** The x range: the non-empty bins and the marks, a bin of margin each side; 0.1 s to 1000 s when empty. */
  function xRange(x, series, marks) {
    let lo = Infinity, hi = -Infinity;
    for (const ys of series) ys.forEach((n, i) => { if (n > 0) { lo = Math.min(lo, x[i]); hi = Math.max(hi, x[i]); } });
    for (const m of marks) { lo = Math.min(lo, m.s); hi = Math.max(hi, m.s); }
    if (!isFinite(lo)) return [0.1, 1000];
    const step = x.length > 1 ? x[1] / x[0] : 1.26;
    lo = lo / (step * step);
    hi = hi * step * step;
    if (hi / lo < 100) { const mid = Math.sqrt(lo * hi); lo = mid / 10; hi = mid * 10; }
    return [Math.max(x[0] / step, lo), Math.min(x[x.length - 1] * step, hi)];
  }

  function markHook(getMarks) {
    return (u) => {
      const marks = getMarks();
      if (!marks.length) return;
      const ctx = u.ctx, p = dpr(), colour = css('--c-mark');
      const { left, top, width, height } = u.bbox;
      ctx.save();
      for (const m of marks) {
        const x = Math.round(u.valToPos(m.s, 'x', true));
        if (x < left || x > left + width) continue;
        ctx.strokeStyle = colour;
        ctx.lineWidth = 2 * p;
        ctx.setLineDash([6 * p, 4 * p]);
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.font = 'bold ' + 12 * p + 'px system-ui, sans-serif';
        ctx.fillStyle = colour;
        const tw = ctx.measureText(m.label).width;
        const right = x + 6 * p + tw < left + width;
        ctx.textAlign = right ? 'left' : 'right';
        ctx.fillText(m.label, right ? x + 6 * p : x - 6 * p, top + 14 * p);
      }
      ctx.restore();
    };
  }

  function logAxis(x, getRange) {
    return Object.assign(axisStyle(), {
      space: 60,
      splits: (u) => { const [lo, hi] = getRange(); return logSplits(lo, hi, u.bbox.width / dpr()); },
      values: (u, splits) => splits.map(fmtAge),
      // uPlot thins a log axis's labels to whole decades by default; the splits are already thinned.
      filter: (u, splits) => splits,
    });
  }

  /** uPlot options of a histogram on the log age axis: bars per bin, integer counts up the side. */
  function logHistogram(width, height, getRange, legend, bars, hooks) {
    return {
      width, height, legend, hooks: hooks || {},
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: { x: { time: false, distr: 3, log: 10, range: () => getRange() }, y: { range: yRange } },
      axes: [logAxis(null, getRange), Object.assign(axisStyle(), { values: intValues, size: 44 })],
      series: [{ label: 'time', value: (u, s) => (s == null ? '–' : fmtAge(s)) }].concat(bars.map(([label, colour, size, align]) => (
        { label, stroke: css(colour), width: 0, fill: alpha(css(colour), 'cc'), points: { show: false }, paths: uPlot.paths.bars({ size, align }) }
      ))),
    };
  }

  function ages(el) {
    let marks = [];
    let range = [0.1, 1000];
    const v = view(el, (width, height) => logHistogram(width, height, () => range, { show: false }, [['closes', '--c-age', [0.86, 48], 0]], { draw: [markHook(() => marks)] }));
    v.update = (edgesMs, counts, newMarks) => {
      const x = centres(edgesMs);
      marks = newMarks || [];
      range = xRange(x, [counts], marks);
      v.set([x, counts.slice()], { edgesMs, counts, marks });
    };
    return v;
  }

  function openAges(el) {
    let range = [0.1, 1000];
    const v = view(el, (width, height) => logHistogram(width, height, () => range, { live: false }, [['age', '--c-age', [0.48, 24], -1], ['idle', '--c-idle', [0.48, 24], 1]]));
    v.update = (edgesMs, age, idle) => {
      const x = centres(edgesMs);
      range = xRange(x, [age, idle], []);
      v.set([x, age.slice(), idle.slice()], { edgesMs, age, idle });
    };
    return v;
  }

  const INITIATORS = ['client', 'backend', 'proxy'];

  function closes(el) {
    let raw = { starts: [], byInitiator: { client: [], backend: [], proxy: [] } };
    let half = 30;
    const v = view(el, (width, height) => ({
      width, height,
      legend: { live: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      // Half a minute of room each side, so the first and last bars are whole.
      scales: { x: { time: true, range: (u, min, max) => [min - half, max + half] }, y: { range: yRange } },
      axes: [Object.assign(axisStyle(), { space: 70 }), Object.assign(axisStyle(), { values: intValues, size: 44 })],
      // Stacked: each series is drawn from 0 up to its cumulative total, tallest first; the legend shows the raw counts.
      series: [{}].concat(INITIATORS.map((who, k) => ({
        label: who,
        stroke: css('--c-' + who),
        width: 0,
        fill: css('--c-' + who),
        points: { show: false },
        paths: uPlot.paths.bars({ size: [0.8, 40] }),
        value: (u, _v, si, idx) => (idx == null ? '–' : String(raw.byInitiator[INITIATORS[si - 1]][idx])),
      }))),
    }));
    /** buckets: the API's (sparse) minutes; filled with zeros over the whole window. */
    v.update = (bucketMs, buckets, nowMs, minutes) => {
      const last = Math.floor(nowMs / bucketMs) * bucketMs;
      const starts = [];
      for (let t = last - (minutes - 1) * bucketMs; t <= last; t += bucketMs) starts.push(t);
      const byStart = new Map(buckets.map((b) => [b.start, b]));
      const by = {};
      for (const who of INITIATORS) by[who] = starts.map((t) => { const b = byStart.get(t); return (b && b.byInitiator && b.byInitiator[who]) || 0; });
      raw = { starts, byInitiator: by };
      half = bucketMs / 2000;
      const stacked = INITIATORS.map((_, k) => starts.map((_, i) => INITIATORS.slice(k).reduce((s, who) => s + by[who][i], 0)));
      v.set([starts.map((t) => t / 1000)].concat(stacked), raw);
    };
    return v;
  }

  window.SightlineCharts = { ages, openAges, closes, fmtAge };
})();
`;
