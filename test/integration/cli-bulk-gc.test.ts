/**
 * Issue 13, point 6: throughput must not depend on how Sightline is started. The real command,
 * `node bin/sightline.js start -c FILE` with no V8 flag (only --trace-gc, to count collections),
 * forwards 384 MB of bulk TCP; full mark-compacts during the transfer are counted. Before
 * src/core/buffer-gc.ts this was ~1 mark-compact per 64 MB of socket reads (6+ here), the cause of
 * the 0.55x throughput; with it, at most a few (0-4 seen here; V8 still starts old-space collections of its own).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

const TOTAL = 384 * 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'sightline-bulk-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function connectWhenListening(port: number, deadline: number): Promise<net.Socket> {
  for (;;) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('bulk transfer through the real CLI, no node flags', () => {
  it('runs at most 5 mark-compacts (7 without the pacer) while forwarding 384 MB', async () => {
    // The backend counts and drops what it receives.
    let received = 0;
    let done!: () => void;
    const allIn = new Promise<void>((r) => (done = r));
    const backend = net.createServer((s) => {
      s.on('data', (d: Buffer) => {
        received += d.length;
        if (received >= TOTAL) done();
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const backendPort = (backend.address() as net.AddressInfo).port;
    const port = await freePort();
    const file = join(dir, 'sightline.json');
    writeFileSync(
      file,
      JSON.stringify({
        listenHost: '127.0.0.1',
        admin: { enabled: false },
        telemetry: { logging: { level: 'silent' } },
        routes: [
          {
            name: 'bulk',
            match: { ports: port },
            action: { type: 'forward', target: { host: '127.0.0.1', port: backendPort } },
          },
        ],
      }),
    );
    const child = spawn(process.execPath, ['--trace-gc', BIN, 'start', '-c', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));

    const client = await connectWhenListening(port, Date.now() + 20_000);
    // Start-up (module loading, config, the first telemetry) ends its own incremental marking in
    // the first second; wait it out, so the count below is what forwarding alone causes.
    await new Promise((r) => setTimeout(r, 1500));
    const before = out.split('\n').filter((l) => l.includes('Mark-Compact')).length;
    const chunk = Buffer.alloc(64 * 1024, 7);
    let sent = 0;
    while (sent < TOTAL) {
      sent += chunk.length;
      if (!client.write(chunk)) await new Promise((r) => client.once('drain', r));
    }
    await allIn;
    const markCompacts = out.split('\n').filter((l) => l.includes('Mark-Compact')).length - before;
    client.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await new Promise((r) => backend.close(r));
    expect(received).toBeGreaterThanOrEqual(TOTAL);
    // Without the pacer Node 24 ran 7 in this transfer; with it 0-4 were seen on a shared 2-core VM
    // (V8 still starts the odd old-space collection on its own schedule), never more.
    expect(
      markCompacts,
      out
        .split('\n')
        .filter((l) => l.includes('Mark-Compact'))
        .join('\n'),
    ).toBeLessThanOrEqual(5);
  }, 120_000);
});
