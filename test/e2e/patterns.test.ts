/**
 * End to end: a backend that kills every connection at a short fixed age. The in-process detector
 * names the age cluster; it shows in /metrics, /api/patterns and the live status page (headless
 * Chromium), next to the connections still open.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { chromium } from 'playwright-core';
import { customServer, echoServer, freePort, waitFor, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';
import { needFile, skipped, titled } from '../helpers/needs.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = needFile(CHROMIUM, 'chromium');
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

// Above the detector's 1 s floor for short-lived churn; starts 400 ms apart so the connections
// are not one burst opened together (the densest second holds under half of them).
const AGE_MS = 3000;
const GAP_MS = 400;

async function fixedAgeProxy(): Promise<{ p: RunningProxy; port: number; steadyPort: number }> {
  // The backend closes every connection AGE_MS after accepting it, whatever it carries.
  const be = await customServer((s) => {
    s.on('error', () => {});
    const t = setTimeout(() => s.end(), AGE_MS);
    s.on('close', () => clearTimeout(t));
  });
  cleanup.push(() => be.close());
  const steady = await echoServer();
  cleanup.push(() => steady.close());
  const [port, steadyPort] = await Promise.all([freePort(), freePort()]);
  const p = await startProxy({
    gracefulShutdownTimeout: 100,
    maxConnectionsPerIP: 0,
    connectionRateLimitPerMinute: 0,
    admin: { enabled: true, port: 0, token: 'secret-token' },
    routes: [
      { name: 'fixed-age', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: be.port } } },
      {
        name: 'steady',
        match: { ports: steadyPort },
        action: { type: 'forward', target: { host: HOST, port: steady.port } },
      },
    ],
  });
  cleanup.push(() => p.stop());
  return { p, port, steadyPort };
}

/** Open `n` connections `gapMs` apart (so they start at different times); each is ended by the backend. */
async function staggered(port: number, n: number, gapMs: number): Promise<net.Socket[]> {
  const socks: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, HOST);
    s.on('error', () => {});
    s.on('end', () => s.end());
    socks.push(s);
    cleanup.push(() => void s.destroy());
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return socks;
}

async function get(url: URL, token: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, body: await r.text() };
}

describe('disconnect-pattern detector, end to end', () => {
  it('names a fixed-age kill as an age-clustered pattern in metrics and the API', async () => {
    const { p, port } = await fixedAgeProxy();
    await staggered(port, 12, GAP_MS);
    await waitFor(() => p.events.events.length >= 12, 12_000, '12 closes');
    const patterns = p.proxy.telemetry!.standingPatterns();
    expect(patterns).toHaveLength(1);
    const pat = patterns[0]!;
    expect(pat).toMatchObject({ route: 'fixed-age', kind: 'age-clustered', initiator: 'backend', local: false });
    expect(Math.abs(pat.periodMs - AGE_MS)).toBeLessThan(250);
    expect(pat.count).toBeGreaterThanOrEqual(8);
    expect(pat.summary).toContain('fixed-age');

    const admin = new URL(p.proxy.adminUrl!);
    const metrics = await get(new URL('metrics', admin), 'secret-token');
    expect(metrics.body).toMatch(/sightline_disconnect_patterns_total\{route="fixed-age",kind="age-clustered"\} 1/);
    expect(metrics.body).toMatch(
      /sightline_disconnect_pattern_period_seconds\{route="fixed-age",kind="age-clustered"\} (2\.9|3\.0|3\.1)/,
    );
    const api = await get(new URL('api/patterns', admin), 'secret-token');
    expect(api.status).toBe(200);
    expect(api.body).toContain('age-clustered');
    expect((await get(new URL('api/patterns', admin), 'wrong')).status).toBe(401);
  }, 20_000);

  it.skipIf(skipped(HAVE_CHROMIUM))(
    titled('the status page in headless Chromium shows open connections and the detected pattern', HAVE_CHROMIUM),
    async () => {
      const { p, port, steadyPort } = await fixedAgeProxy();
      await staggered(port, 12, GAP_MS);
      await waitFor(() => p.proxy.telemetry!.standingPatterns().length === 1, 12_000, 'a pattern');
      // Two connections that stay open while the browser starts and the page loads.
      await staggered(steadyPort, 2, 10);
      await waitFor(() => p.proxy.getStats().getConnectionsByRoute().get('steady') === 2, 3000, 'two open');
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      cleanup.push(() => browser.close());
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(new URL('/?token=secret-token', p.proxy.adminUrl!).href);
      await page.locator('#patterns .pattern').first().waitFor({ timeout: 5000 });
      expect(await page.locator('#patterns .pattern').first().textContent()).toContain('fixed-age');
      await page.locator('[data-connection-id]').first().waitFor({ timeout: 5000 });
      expect(await page.locator('[data-connection-id]').count()).toBeGreaterThanOrEqual(1);
      expect(await page.locator('#routes').textContent()).toContain('fixed-age');
      expect(problems).toEqual([]);
    },
    20_000,
  );
});
