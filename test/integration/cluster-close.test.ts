/**
 * POST /api/connections/:id/close through a cluster primary (`sightline start --workers 2`, the
 * real CLI): the primary asks every worker and the one holding the connection closes it; numeric
 * ids repeat across workers, so the primary accepts only the unique id (400 for a number).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { closed, connect, echoServer, freePort, readBytes, HOST, type TestServer } from '../helpers/net.js';
import { startCli, type RunningCli } from '../helpers/cluster.js';

const TOKEN = 'cluster-close-token';
let dir = '';
let echo: TestServer;
let cli: RunningCli;
let port = 0;

const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  echo = await echoServer();
  port = await freePort();
  dir = mkdtempSync(path.join(os.tmpdir(), 'sightline-cluster-close-'));
  const cfg = path.join(dir, 'sightline.yaml');
  writeFileSync(
    cfg,
    [
      'listenHost: 127.0.0.1',
      'gracefulShutdownTimeout: 500',
      `admin: { port: 0, token: ${TOKEN} }`,
      'telemetry: { logging: { level: silent } }',
      'routes:',
      `  - { name: echo, match: { ports: ${port} }, action: { type: forward, target: { host: ${HOST}, port: ${echo.port} } } }`,
      '',
    ].join('\n'),
  );
  cli = await startCli(['start', '-c', cfg, '--workers', '2']);
}, 40_000);

afterAll(async () => {
  if (cli.child.exitCode === null) {
    cli.child.kill('SIGKILL');
    await cli.exited;
  }
  await echo.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('admin close through the cluster primary', () => {
  it('by uniqueId: the worker that holds it closes it; a numeric id is refused', async () => {
    const s: net.Socket = await connect(port);
    s.write('ping');
    expect((await readBytes(s, 4)).toString()).toBe('ping');
    const list = (await (await fetch(`${cli.adminUrl}/api/connections`, { headers: auth })).json()) as {
      items: Array<{ id: number; uniqueId: string; worker: number }>;
    };
    expect(list.items).toHaveLength(1);
    const item = list.items[0]!;
    expect(item.uniqueId).toMatch(/^[0-9a-f]{36}$/);

    const byNumber = await fetch(`${cli.adminUrl}/api/connections/${item.id}/close`, { method: 'POST', headers: auth });
    expect(byNumber.status).toBe(400);
    expect(((await byNumber.json()) as { error: string }).error).toMatch(/uniqueId/);

    const gone = closed(s);
    const res = await fetch(`${cli.adminUrl}/api/connections/${item.uniqueId}/close`, {
      method: 'POST',
      headers: auth,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      closed: true,
      reason: 'admin_closed',
      connection: { uniqueId: item.uniqueId },
    });
    await gone;
    const again = await fetch(`${cli.adminUrl}/api/connections/${item.uniqueId}/close`, {
      method: 'POST',
      headers: auth,
    });
    expect(again.status).toBe(404);
  }, 20_000);
});
