/**
 * The seed guide's three examples (reference/seed-websocket-keepalive-guide.md) must validate
 * unchanged: users paste them with only the import and class name changed.
 */
import { describe, expect, it } from 'vitest';
import { validateOptions } from '../../../src/config/validate.js';
import type { SightlineOptions } from '../../../src/config/schema.js';

const option1 = {
  // Extend timeout for keep-alive connections
  keepAliveTreatment: 'extended',
  keepAliveInactivityMultiplier: 10, // 10x the base timeout
  inactivityTimeout: 14400000, // 4 hours base (40 hours with multiplier)
  routes: [
    {
      name: 'websocket-passthrough',
      match: {
        ports: 443,
        domains: ['ws.example.com', 'wss.example.com'],
      },
      action: {
        type: 'forward',
        target: { host: 'backend', port: 443 },
        tls: { mode: 'passthrough' },
      },
    },
  ],
} satisfies SightlineOptions;

const option2 = {
  // Never timeout keep-alive connections
  keepAliveTreatment: 'immortal',
  routes: [
    // ... same as above
    ...option1.routes,
  ],
} satisfies SightlineOptions;

const option3 = {
  routes: [
    {
      name: 'websocket-passthrough',
      match: {
        ports: 443,
        domains: ['ws.example.com'],
      },
      action: {
        type: 'forward',
        target: { host: 'backend', port: 443 },
        tls: { mode: 'passthrough' },
      },
      security: {
        // Disable connection limits for this route
        maxConnections: 0, // 0 = unlimited
        maxConnectionsPerIP: 0, // 0 = unlimited
      },
    },
  ],
} satisfies SightlineOptions;

describe('seed guide examples', () => {
  it('option 1 (extended keep-alive) validates and keeps its values', () => {
    const o = validateOptions(option1);
    expect(o.keepAliveTreatment).toBe('extended');
    expect(o.keepAliveInactivityMultiplier).toBe(10);
    expect(o.inactivityTimeout).toBe(14_400_000);
    const route = o.routes[0];
    expect(route?.name).toBe('websocket-passthrough');
    expect(route?.match).toEqual({ ports: 443, domains: ['ws.example.com', 'wss.example.com'] });
    expect(route?.action.target).toEqual({ host: 'backend', port: 443 });
    expect(route?.action.tls?.mode).toBe('passthrough');
  });

  it('option 1 gets the documented defaults', () => {
    const o = validateOptions(option1);
    expect(o.maxConnectionsPerIP).toBe(100);
    expect(o.defaults.security.maxConnections).toBe(10_000);
    expect(o.connectionRateLimitPerMinute).toBe(300);
    expect(o.maxConnectionLifetime).toBe(86_400_000);
    expect(o.extendedKeepAliveLifetime).toBe(604_800_000);
    expect(o.socketTimeout).toBe(3_600_000);
    expect(o.initialDataTimeout).toBe(60_000);
    expect(o.connectionTimeout).toBe(30_000);
    expect(o.keepAlive).toBe(true);
    expect(o.keepAliveInitialDelay).toBe(10_000);
    expect(o.noDelay).toBe(true);
    expect(o.maxPendingDataSize).toBe(10_485_760);
    expect(o.disableInactivityCheck).toBe(false);
    expect(o.gracefulShutdownTimeout).toBe(30_000);
    expect(o.acceptProxyProtocol).toBe(false);
    expect(o.proxyIPs).toEqual([]);
    expect(o.sendProxyProtocol).toBe(false);
    expect(o.enableDetailedLogging).toBe(false);
    expect(o.inactivityCheckInterval).toBe(10_000);
    expect(o.maxClientHelloSize).toBe(16_384);
    expect(o.lifecycle).toEqual({
      halfZombieGrace: 30_000,
      halfZombieGraceTls: 300_000,
      stuckThreshold: 60_000,
      stuckThresholdTls: 300_000,
      extendedWarningGrace: 600_000,
      activitySampleInterval: 1_000,
      writeStallTimeout: 60_000,
    });
    // The library opens no admin listener unless asked (the CLI asks for 127.0.0.1:9464).
    expect(o.admin).toBeUndefined();
    expect(o.telemetry).toEqual({
      metrics: { enabled: true },
      tracing: { enabled: false, segmentLength: 600_000 },
      logging: { level: 'info', destination: 'stdout' },
      progressInterval: 600_000,
      patterns: { enabled: true },
    });
    const route = o.routes[0];
    expect(route?.priority).toBe(0);
    expect(route?.enabled).toBe(true);
    expect(route?.security).toEqual({ maxConnections: 0, maxConnectionsPerIP: 0 });
    expect(route?.action.tls).toEqual({
      mode: 'passthrough',
      minVersion: 'TLSv1.2',
      handshakeTimeout: 10_000,
      rejectUnauthorized: true,
    });
    // no WebSocket section on a passthrough route: the proxy cannot ping inside TLS it does not terminate
    expect(route?.action.websocket).toBeUndefined();
  });

  it('option 2 (immortal) validates', () => {
    const o = validateOptions(option2);
    expect(o.keepAliveTreatment).toBe('immortal');
    expect(o.keepAliveInactivityMultiplier).toBe(6);
    expect(o.inactivityTimeout).toBe(14_400_000);
    expect(o.routes).toHaveLength(1);
  });

  it('option 3 (per-route security) validates with its zero limits', () => {
    const o = validateOptions(option3);
    expect(o.keepAliveTreatment).toBe('extended');
    expect(o.routes[0]?.security).toEqual({ maxConnections: 0, maxConnectionsPerIP: 0 });
  });

  it('does not modify the options object it was given', () => {
    const copy = structuredClone(option1);
    validateOptions(option1);
    expect(option1).toEqual(copy);
    expect(Object.isFrozen(option1)).toBe(false);
  });
});
