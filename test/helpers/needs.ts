/**
 * Tests that need a program or a device the machine may lack. `.ci/run` installs every one of
 * them, so in CI (`CI` set) a missing one fails its test; elsewhere the test is skipped and its
 * title says why, in words a reader can check (which command or file is missing, which Debian
 * package provides it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Need {
  /** Present on this machine. */
  readonly ok: boolean;
  /** Skip (missing, outside CI). */
  readonly skip: boolean;
  /** Why it is missing (empty when present). */
  readonly reason: string;
}

const inCi = process.env.CI !== undefined && process.env.CI !== '';

function need(ok: boolean, reason: string, skipInCi = false): Need {
  return { ok, skip: !ok && (!inCi || skipInCi), reason: ok ? '' : reason };
}

/** A command on PATH (run with `args` to prove it works), from Debian package `pkg`. */
export function needCommand(cmd: string, pkg: string, args: readonly string[] = ['--version']): Need {
  const ok = spawnSync(cmd, [...args], { stdio: 'ignore', timeout: 20_000 }).status === 0;
  return need(ok, `\`${cmd}\` not found on PATH (apt-get install -y ${pkg}; .ci/run installs it)`);
}

/** A file that must exist, from Debian package `pkg`. */
export function needFile(path: string, pkg: string): Need {
  return need(existsSync(path), `${path} not found (apt-get install -y ${pkg}; .ci/run installs it)`);
}

/** Something CI cannot provide either (a Docker engine): skipped everywhere when missing. */
export function needOptional(ok: boolean, reason: string): Need {
  return need(ok, reason, true);
}

/** The test title, with the reason appended when the test is skipped. */
export function titled(title: string, ...needs: readonly Need[]): string {
  const missing = needs.filter((n) => n.skip).map((n) => n.reason);
  return missing.length === 0 ? title : `${title} (skipped: ${missing.join('; ')})`;
}

/** Skip when any need is missing (outside CI). */
export const skipped = (...needs: readonly Need[]): boolean => needs.some((n) => n.skip);
