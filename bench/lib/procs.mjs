// Process management: every server process is started here, its pid recorded,
// and only those pids (plus the descendants they forked, identified by ppid and
// start time) are ever signalled. No pkill/killall by name anywhere.
import fs from 'node:fs';
import { spawn, execFileSync } from 'node:child_process';
import { log, sleep } from './util.mjs';

const CLK_TCK = Number(safeExec('getconf', ['CLK_TCK']) || 100);
const PAGE = Number(safeExec('getconf', ['PAGESIZE']) || 4096);
function safeExec(c, a) {
  try {
    return execFileSync(c, a, { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

// pid -> { name, child, startTime }
const registry = new Map();
export const startedPids = []; // audit trail: {name, pid, cmd}

function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rp = s.lastIndexOf(')');
    const f = s.slice(rp + 2).split(' ');
    // f[0]=state f[1]=ppid ... f[11]=utime f[12]=stime f[13]=cutime f[14]=cstime f[19]=starttime f[21]=rss
    return {
      pid: Number(pid),
      state: f[0],
      ppid: Number(f[1]),
      cpuTicks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
      startTime: f[19],
      rssPages: Number(f[21]),
    };
  } catch {
    return null;
  }
}

function allProcs() {
  const m = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (d.charCodeAt(0) < 48 || d.charCodeAt(0) > 57) continue;
    const st = readStat(d);
    if (st) m.set(st.pid, st);
  }
  return m;
}

// Root pid + all live descendants (by ppid walk). Returns array of stat objects.
export function processTree(rootPid) {
  if (!rootPid) return [];
  const procs = allProcs();
  const root = procs.get(rootPid);
  if (!root || root.state === 'Z') return [];
  const kids = new Map();
  for (const p of procs.values()) {
    if (!kids.has(p.ppid)) kids.set(p.ppid, []);
    kids.get(p.ppid).push(p);
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const k of kids.get(out[i].pid) || []) out.push(k);
  return out;
}

// CPU seconds consumed by the tree: utime+stime of live members plus
// cutime+cstime (already-reaped children, e.g. a forking proxy's per-connection processes).
export function treeCpuSeconds(rootPid) {
  const t = processTree(rootPid);
  return t.reduce((a, p) => a + p.cpuTicks, 0) / CLK_TCK;
}

// Sum of RSS over the tree (bytes), plus PSS from smaps_rollup when the tree
// is small enough to read quickly (PSS splits shared pages between processes,
// which matters for multi-process proxies such as nginx).
export function treeMemory(rootPid, { pss = true, pssMaxProcs = 64 } = {}) {
  const t = processTree(rootPid);
  const rss = t.reduce((a, p) => a + p.rssPages * PAGE, 0);
  let pssBytes = null;
  if (pss && t.length <= pssMaxProcs) {
    pssBytes = 0;
    for (const p of t) {
      try {
        const s = fs.readFileSync(`/proc/${p.pid}/smaps_rollup`, 'utf8');
        const m = /^Pss:\s+(\d+) kB/m.exec(s);
        if (m) pssBytes += Number(m[1]) * 1024;
      } catch {
        /* process went away */
      }
    }
  }
  return { rss, pss: pssBytes, procs: t.length };
}

// Start a long-running server process. stdout/stderr go to logFile.
export function startProcess(name, cmd, args, { cwd, env, logFile, stdin = 'ignore' } = {}) {
  const fd = logFile ? fs.openSync(logFile, 'a') : 'ignore';
  const child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: [stdin, fd, fd] });
  if (typeof fd === 'number') fs.closeSync(fd);
  if (!child.pid) throw new Error(`failed to start ${name}: ${cmd}`);
  const st = readStat(child.pid);
  const h = { name, pid: child.pid, child, startTime: st?.startTime, exited: false, exitCode: null, logFile };
  child.on('exit', (code, sig) => {
    h.exited = true;
    h.exitCode = code ?? sig;
    registry.delete(child.pid);
  });
  child.on('error', () => {
    h.exited = true;
  });
  registry.set(child.pid, h);
  startedPids.push({ name, pid: child.pid, cmd: [cmd, ...args].join(' ') });
  h.alive = () => !h.exited;
  h.stop = () => stopProcess(h);
  return h;
}

function stillSame(p) {
  const st = readStat(p.pid);
  return st && st.startTime === p.startTime && st.state !== 'Z';
}

// Graceful-then-forceful stop of one started process and the descendants it forked.
export async function stopProcess(h, { graceMs = 3000 } = {}) {
  if (!h || !h.pid) return;
  // snapshot the tree first: descendants are identified by pid + start time
  const tree = processTree(h.pid).filter((p) => p.pid !== h.pid);
  if (!h.exited) {
    try {
      process.kill(h.pid, 'SIGTERM');
    } catch {}
  }
  // also TERM the descendants (covers `sh -c cmd` wrappers that do not forward signals)
  for (const p of tree)
    if (stillSame(p)) {
      try {
        process.kill(p.pid, 'SIGTERM');
      } catch {}
    }
  const t0 = Date.now();
  const treeAlive = () => tree.some(stillSame);
  while ((!h.exited || treeAlive()) && Date.now() - t0 < graceMs) await sleep(20);
  if (!h.exited) {
    try {
      process.kill(h.pid, 'SIGKILL');
    } catch {}
  }
  for (const p of tree)
    if (stillSame(p)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
  while (!h.exited && Date.now() - t0 < graceMs + 2000) await sleep(20);
  registry.delete(h.pid);
}

// Synchronous emergency cleanup (process 'exit' handler): SIGKILL every
// process we started and the descendants they forked.
export function killAllSync() {
  for (const h of [...registry.values()]) {
    let tree = [];
    try {
      tree = processTree(h.pid);
    } catch {}
    for (const p of tree.reverse()) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
  }
  registry.clear();
}

export async function stopAll() {
  const hs = [...registry.values()];
  await Promise.all(hs.map((h) => stopProcess(h)));
}

let installed = false;
export function installCleanupHandlers() {
  if (installed) return;
  installed = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      log(`caught ${sig}, stopping started processes`);
      killAllSync();
      process.exit(130);
    });
  }
}
