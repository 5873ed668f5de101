/** A temp directory and two tagged backends ('A', 'B') for the reload tests (e2e and integration). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { taggedServer, type TestServer } from './net.js';

export interface ReloadRig {
  readonly dir: string;
  readonly a: TestServer;
  readonly b: TestServer;
}

/** Registers beforeAll/afterAll in the calling suite; read the fields inside tests. */
export function useReloadRig(prefix: string): ReloadRig {
  const rig = {} as { dir: string; a: TestServer; b: TestServer };
  beforeAll(async () => {
    rig.dir = await mkdtemp(path.join(tmpdir(), prefix));
    rig.a = await taggedServer('A');
    rig.b = await taggedServer('B');
  });
  afterAll(async () => {
    await rig.a.close();
    await rig.b.close();
    await rm(rig.dir, { recursive: true, force: true });
  });
  return rig;
}
