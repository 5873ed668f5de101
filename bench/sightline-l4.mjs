#!/usr/bin/env node
// Minimal plain-TCP Sightline for instruction counting: node sightline-l4.mjs LISTEN_PORT TARGET_PORT
import { SightlineProxy } from '../dist/index.js';

const [listen, target] = process.argv.slice(2).map(Number);
const proxy = new SightlineProxy({
  listenHost: '127.0.0.1',
  maxConnectionsPerIP: 0,
  connectionRateLimitPerMinute: 0,
  admin: { enabled: false },
  telemetry: { logging: { level: 'silent' } },
  routes: [
    { name: 'l4', match: { ports: listen }, action: { type: 'forward', target: { host: '127.0.0.1', port: target } } },
  ],
});
await proxy.start();
process.on('SIGTERM', () => proxy.stop().then(() => process.exit(0)));
