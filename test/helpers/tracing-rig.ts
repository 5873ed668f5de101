/**
 * The rig of the tracing unit tests (test/unit/telemetry/tracing*.test.ts): a Tracing of proxy
 * PROXY on an in-memory exporter, fed synthetic channel events with a ManualClock. Each test file
 * registers `cleanup` in its own afterEach.
 */
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { channels, type CloseEvent, type ConnectionView } from '../../src/core/channels.js';
import { ManualClock } from '../../src/core/clock.js';
import type { CloseReason } from '../../src/core/close-reasons.js';
import { startTracing, type Tracing } from '../../src/telemetry/tracing.js';
import { createSamplingProcessor } from '../../src/telemetry/tracing-sampling.js';

export const PROXY = 4242;
export const cleanup: Array<() => Promise<void> | void> = [];

export type Conn = { -readonly [K in keyof ConnectionView]: ConnectionView[K] };
export let nextId = 1;

export interface Rig {
  clock: ManualClock;
  tracing: Tracing;
  spans(): Promise<ReadableSpan[]>;
  conn(over?: Partial<Conn>): Conn;
  open(c: Conn, target?: string): void;
  close(c: Conn, reason: CloseReason, more?: Partial<CloseEvent>): void;
}

export function rig(opts: { ratio?: number; segmentLengthMs?: number } = {}): Rig {
  const clock = new ManualClock(1_800_000_000_000);
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    spanProcessors: [createSamplingProcessor(new SimpleSpanProcessor({ exporter }))],
  });
  const tracing = startTracing({
    proxyId: PROXY,
    clock,
    segmentLengthMs: opts.segmentLengthMs ?? 1000,
    provider,
    normalSampleRatio: opts.ratio ?? 1,
  })!;
  cleanup.push(() => tracing.close());
  return {
    clock,
    tracing,
    async spans() {
      await provider.forceFlush();
      return exporter.getFinishedSpans();
    },
    conn(over = {}) {
      return {
        proxyId: PROXY,
        id: nextId++,
        listenPort: 8443,
        clientIP: '192.0.2.7',
        clientPort: 50_000,
        remoteIP: '192.0.2.7',
        remotePort: 50_000,
        peerIP: '192.0.2.7',
        peerPort: 50_000,
        routeName: null,
        serverName: null,
        isTLS: false,
        phase: 'admission',
        incomingStartTime: clock.now(),
        keepAliveTreatment: 'standard',
        mode: null,
        story: { configGeneration: 1 },
        ...over,
      };
    },
    open(c, target = '10.0.0.1:443') {
      channels.accept.publish({ conn: c });
      c.routeName = 'api';
      c.mode = 'passthrough';
      channels.route.publish({ conn: c, routeName: 'api', target, alpn: ['h2', 'http/1.1'], tlsVersions: ['TLSv1.3'] });
      clock.advance(3);
      channels.backendConnected.publish({ conn: c, target, connectMs: 3 });
      c.phase = 'tunnel';
    },
    close(c, reason, more = {}) {
      const ev: CloseEvent = {
        conn: c,
        reason,
        initiator: 'client',
        firstSide: 'client',
        endKind: 'fin',
        phase: c.phase,
        durationMs: clock.now() - c.incomingStartTime,
        idleAtCloseMs: 0,
        bytesFromClient: 10,
        bytesToClient: 20,
        target: '10.0.0.1:443',
        error: null,
        configGeneration: 1,
        milestonesMs: {},
        ...more,
      };
      channels.close.publish(ev);
    },
  };
}

export const named = (spans: ReadableSpan[], name: string): ReadableSpan[] => spans.filter((s) => s.name === name);
export const ms = (t: [number, number]): number => t[0] * 1000 + t[1] / 1e6;
