#!/usr/bin/env node
// A stand-in for Prometheus during benchmarks: every --interval ms, scrape GET <url>metrics of every
// admin listener whose URL is in a *.url file of --dir (the adapter writes them with
// --admin-url-file). A URL that stops answering (its proxy was stopped) is dropped until its file
// changes. Counts per URL are written to --stats-file every second and on SIGTERM/SIGINT.
//
//   node bench/metrics-scraper.mjs --dir DIR [--interval 1000] [--stats-file F]
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: { dir: { type: 'string' }, interval: { type: 'string', default: '1000' }, 'stats-file': { type: 'string' } },
});
if (!a.dir) {
  process.stderr.write('usage: node metrics-scraper.mjs --dir DIR [--interval MS] [--stats-file F]\n');
  process.exit(2);
}
const interval = Number(a.interval);
/** url -> { file, scrapes, failures, bytes, series (lines of the last body), last_error, dead } */
const targets = new Map();
const fileUrl = new Map();
const agent = new http.Agent({ keepAlive: true });

function discover() {
  let names = [];
  try {
    names = fs.readdirSync(a.dir).filter((n) => n.endsWith('.url'));
  } catch {
    return;
  }
  for (const n of names) {
    let url;
    try {
      url = fs.readFileSync(path.join(a.dir, n), 'utf8').trim();
    } catch {
      continue;
    }
    if (!url || fileUrl.get(n) === url) continue;
    fileUrl.set(n, url);
    targets.set(url, { file: n, scrapes: 0, failures: 0, bytes: 0, series: 0, last_error: null, dead: false });
  }
}

function scrape(url, t) {
  const req = http.get(new URL('metrics', url), { agent, timeout: 2000 }, (res) => {
    let bytes = 0;
    let lines = 0;
    res.on('data', (c) => {
      bytes += c.length;
      for (let i = 0; i < c.length; i++) if (c[i] === 10) lines++;
    });
    res.on('end', () => {
      if (res.statusCode === 200) {
        t.scrapes++;
        t.bytes += bytes;
        t.series = lines;
      } else {
        t.failures++;
        t.last_error = `HTTP ${res.statusCode}`;
      }
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => {
    t.failures++;
    t.last_error = String(e.message);
    if (e.code === 'ECONNREFUSED') t.dead = true; // proxy stopped
  });
}

function tick() {
  discover();
  for (const [url, t] of targets) if (!t.dead) scrape(url, t);
}

function summary() {
  const per = Object.fromEntries([...targets].map(([url, t]) => [url, t]));
  const all = [...targets.values()];
  return {
    interval_ms: interval,
    targets: all.length,
    scrapes: all.reduce((s, t) => s + t.scrapes, 0),
    failures: all.reduce((s, t) => s + t.failures, 0),
    bytes: all.reduce((s, t) => s + t.bytes, 0),
    per_target: per,
  };
}

function writeStats() {
  if (!a['stats-file']) return;
  const f = a['stats-file'];
  fs.writeFileSync(`${f}.tmp`, JSON.stringify({ ...summary(), written_at: new Date().toISOString() }, null, 2) + '\n');
  fs.renameSync(`${f}.tmp`, f);
}

setInterval(tick, interval);
setInterval(writeStats, 1000);
process.stderr.write(`metrics-scraper: watching ${a.dir} every ${interval} ms (pid ${process.pid})\n`);

function stop() {
  writeStats();
  const s = summary();
  process.stderr.write(
    `metrics-scraper: ${s.targets} target(s), ${s.scrapes} scrapes, ${s.failures} failures, ${s.bytes} bytes\n`,
  );
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
