/**
 * The CLI's tracing: the OpenTelemetry SDK for Node (`NodeSDK`) does the OpenTelemetry work
 * (DESIGN §3: export via the standard `OTEL_*` variables). It reads the exporter choice and
 * protocol, the endpoints, headers, timeouts and compression, the batch queue (`OTEL_BSP_*`,
 * bounded: it drops past the queue size), the propagators and `OTEL_SDK_DISABLED`, and it detects
 * the resource: `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` (where Kubernetes attributes
 * arrive, e.g. `k8s.pod.name` from the Downward API), host, OS, process, service instance and
 * container id (or exactly the detectors `OTEL_NODE_RESOURCE_DETECTORS` names).
 *
 * What Sightline chooses itself, and why:
 *  - no instrumentations: nothing is monkey-patched, so the proxy's own sockets and the admin
 *    listener are not traced; Sightline's spans come from its channel subscriber (tracing.ts);
 *  - an always-on sampler: the export decision is Sightline's (abnormal closes always, normal
 *    ones by the ratio `OTEL_TRACES_SAMPLER[_ARG]` asks for; see tracing-sampling.ts), so the SDK
 *    must not drop spans at their start;
 *  - traces only: metrics are scraped from `/metrics` and logs are pino JSON, so the SDK gets no
 *    metric readers and no log processors (its defaults would push both over OTLP);
 *  - `service.name` defaults to `sightline` (below every detector: the variables override it).
 *
 * The SDK registers itself globally (it is the application's SDK); the library never does
 * (`SightlineDeps.tracerProvider`, or the global provider an application registered).
 */
import { trace, type TracerProvider } from '@opentelemetry/api';
import { containerDetector } from '@opentelemetry/resource-detector-container';
import {
  defaultResource,
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
} from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

export interface TracingSdk {
  /** The SDK's tracer provider, for `SightlineDeps.tracerProvider`. */
  readonly provider: TracerProvider;
  /** Flush and stop the exporters (after the proxy has stopped); idempotent. */
  shutdown(): Promise<void>;
}

/** NodeSDK's own default detectors, plus the container id (the proxy mostly runs in one). */
const DETECTORS = [
  serviceInstanceIdDetector,
  processDetector,
  hostDetector,
  osDetector,
  containerDetector,
  envDetector,
];

/**
 * Start the SDK from the environment. null when the environment turns traces off
 * (`OTEL_SDK_DISABLED=true`, `OTEL_TRACES_EXPORTER=none`): then no provider exists.
 */
export function startTracingSdk(version: string): TracingSdk | null {
  const sdk = new NodeSDK({
    instrumentations: [],
    sampler: new AlwaysOnSampler(),
    metricReaders: [],
    logRecordProcessors: [],
    resource: defaultResource().merge(
      resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'sightline', [ATTR_SERVICE_VERSION]: version }),
    ),
    // Only when the variable is unset: a given list takes precedence over the variable in NodeSDK.
    ...(process.env.OTEL_NODE_RESOURCE_DETECTORS?.trim() ? {} : { resourceDetectors: DETECTORS }),
  });
  const registered = (): TracerProvider | null => {
    const global = trace.getTracerProvider() as TracerProvider & {
      getDelegate?: () => TracerProvider;
      getDelegateTracer?: (name: string) => unknown;
    };
    return global.getDelegateTracer?.('sightline') === undefined ? null : (global.getDelegate?.() ?? null);
  };
  const before = registered();
  sdk.start();
  let done: Promise<void> | null = null;
  const shutdown = (): Promise<void> => (done ??= sdk.shutdown().catch(() => undefined));
  // NodeSDK registers a provider only when some exporter is configured (and none was before).
  const provider = registered();
  if (provider === null || provider === before) {
    void shutdown();
    return null;
  }
  return { provider, shutdown };
}
