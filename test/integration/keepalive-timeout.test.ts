/**
 * client_keepalive_timeout / backend_keepalive_timeout for real (issue 14): TCP keep-alive probes
 * that get no answer end in ETIMEDOUT from the kernel. Dropping the probes needs a route change,
 * so the proxy runs in a child process inside its own user + network namespace
 * (`unshare -Urn`, no root needed on the host) where it may blackhole 127.0.0.2 / 127.0.0.3
 * (test/helpers/keepalive-netns.mjs). About 12 s: 1 s idle + 10 probes 1 s apart (libuv).
 */
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { needOptional, skipped, titled } from '../helpers/needs.js';

const NETNS = needOptional(
  spawnSync('unshare', ['-Urn', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore', timeout: 10_000 }).status === 0,
  'needs `unshare -Urn` (user namespaces) and `ip` (iproute2): unavailable in this container',
);

function runInNamespace(): Promise<{ code: number | null; lines: Array<Record<string, unknown>>; err: string }> {
  return new Promise((resolve) => {
    const c = spawn('unshare', ['-Urn', process.execPath, 'test/helpers/keepalive-netns.mjs'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const guard = setTimeout(() => c.kill('SIGKILL'), 50_000);
    c.once('exit', (code) => {
      clearTimeout(guard);
      const lines = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, lines, err });
    });
  });
}

describe('TCP keep-alive probe timeouts', () => {
  it.skipIf(skipped(NETNS))(
    titled('unanswered probes close as client_keepalive_timeout / backend_keepalive_timeout, not *_error', NETNS),
    async () => {
      const r = await runInNamespace();
      expect(r.code, r.err).toBe(0);
      const closes = r.lines.filter((l) => 'reason' in l);
      expect(closes.find((l) => l.route === 'cl')).toEqual({
        route: 'cl',
        reason: 'client_keepalive_timeout',
        initiator: 'client',
        error: 'ETIMEDOUT',
        endKind: 'error',
      });
      expect(closes.find((l) => l.route === 'be')).toEqual({
        route: 'be',
        reason: 'backend_keepalive_timeout',
        initiator: 'backend',
        error: 'ETIMEDOUT',
        endKind: 'error',
      });
    },
    60_000,
  );
});
