/**
 * A tracer provider from the standard OTEL_* environment (DESIGN §3: export via the standard
 * variables). Only a provider: nothing is registered globally, nothing is instrumented or
 * monkey-patched. The OTLP exporter package is loaded lazily on first use, so a proxy with tracing
 * off never pays for it.
 *
 * Read: OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER (otlp | console | none),
 * OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL
 * (http/protobuf | http/json | grpc), OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_BSP_* (queue bounded: 2048 by default; the SDK drops and counts past it),
 * OTEL_TRACES_SAMPLER[_ARG] (the ratio of normal closes kept). The exporter itself reads
 * OTEL_EXPORTER_OTLP_[TRACES_]HEADERS / TIMEOUT / COMPRESSION.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { defaultResource, detectResources, resourceAttributesEnvDetector, resourceFromAttributes, serviceNameEnvDetector } from '@opentelemetry/resources';
import { AlwaysOnSampler, BatchSpanProcessor, ConsoleSpanExporter, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { createSamplingProcessor, type SamplingSpanProcessor } from './tracing-sampling.js';

export type Env = Readonly<Record<string, string | undefined>>;
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

export interface EnvTracingConfig {
  readonly exporter: 'otlp' | 'console';
  readonly protocol: OtlpProtocol;
  /** The traces endpoint (already with /v1/traces for HTTP), undefined: the exporter's default. */
  readonly url: string | undefined;
  readonly serviceName: string;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMillis: number;
  readonly exportTimeoutMillis: number;
}

const str = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

const positive = (env: Env, name: string, dflt: number): number => {
  const v = Number(str(env, name));
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : dflt;
};

/** What the environment asks for; null: tracing off (no exporter configured, or disabled). */
export function tracingConfigFromEnv(env: Env = process.env): EnvTracingConfig | null {
  if (str(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return null;
  const exporters = (str(env, 'OTEL_TRACES_EXPORTER') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'null');
  const tracesEndpoint = str(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = str(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (exporters.includes('none')) return null;
  if (exporters.length === 0 && tracesEndpoint === undefined && endpoint === undefined) return null;
  // Only otlp and console are built in; a list of nothing but others (zipkin, ...) means off.
  const known = exporters.filter((e) => e === 'otlp' || e === 'console');
  if (exporters.length > 0 && known.length === 0) return null;
  const exporter = known.length > 0 && !known.includes('otlp') ? 'console' : 'otlp';
  const p = (str(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? str(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf').toLowerCase();
  const protocol: OtlpProtocol = p === 'http/json' || p === 'grpc' ? p : 'http/protobuf';
  let url = tracesEndpoint;
  if (url === undefined && endpoint !== undefined) url = protocol === 'grpc' ? endpoint : `${endpoint.replace(/\/+$/, '')}/v1/traces`;
  const maxQueueSize = positive(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048);
  return {
    exporter,
    protocol,
    url,
    serviceName: str(env, 'OTEL_SERVICE_NAME') ?? 'sightline',
    maxQueueSize,
    maxExportBatchSize: Math.min(maxQueueSize, positive(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512)),
    scheduledDelayMillis: positive(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000),
    exportTimeoutMillis: positive(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000),
  };
}

/** The ratio of normal connections exported, from OTEL_TRACES_SAMPLER / _ARG; 1 by default. */
export function normalRatioFromEnv(env: Env = process.env): number {
  const sampler = str(env, 'OTEL_TRACES_SAMPLER')?.toLowerCase();
  if (sampler === 'always_off' || sampler === 'parentbased_always_off') return 0;
  if (sampler !== 'traceidratio' && sampler !== 'parentbased_traceidratio') return 1;
  const arg = str(env, 'OTEL_TRACES_SAMPLER_ARG');
  const v = arg === undefined ? 1 : Number(arg);
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 1;
}

async function loadOtlpExporter(protocol: OtlpProtocol, url: string | undefined): Promise<SpanExporter> {
  const config = url === undefined ? {} : { url };
  switch (protocol) {
    case 'http/json':
      return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(config);
    case 'grpc':
      return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter(config);
    default:
      return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter(config);
  }
}

/** An exporter that loads the real one in the background and hands batches to it once ready. */
class LazyExporter implements SpanExporter {
  #real: SpanExporter | null = null;
  #failure: Error | null = null;
  readonly #ready: Promise<void>;

  constructor(load: Promise<SpanExporter>) {
    this.#ready = load.then(
      (e) => void (this.#real = e),
      (err: unknown) => void (this.#failure = err instanceof Error ? err : new Error(String(err))),
    );
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.#real !== null) return this.#real.export(spans, done);
    void this.#ready.then(() => {
      if (this.#real !== null) this.#real.export(spans, done);
      else done({ code: ExportResultCode.FAILED, error: this.#failure ?? new Error('trace exporter unavailable') });
    });
  }

  async forceFlush(): Promise<void> {
    await this.#ready;
    await this.#real?.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    await this.#ready;
    await this.#real?.shutdown();
  }
}

export interface EnvProvider {
  readonly provider: TracerProvider;
  readonly sampling: SamplingSpanProcessor;
}

/** A provider that records every span, behind the sampling wrapper and a bounded batch queue. */
export function providerFromConfig(cfg: EnvTracingConfig): EnvProvider {
  const exporter = cfg.exporter === 'console' ? new ConsoleSpanExporter() : new LazyExporter(loadOtlpExporter(cfg.protocol, cfg.url));
  const batch = new BatchSpanProcessor({
    exporter,
    maxQueueSize: cfg.maxQueueSize,
    maxExportBatchSize: cfg.maxExportBatchSize,
    scheduledDelayMillis: cfg.scheduledDelayMillis,
    exportTimeoutMillis: cfg.exportTimeoutMillis,
  });
  const sampling = createSamplingProcessor(batch);
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: cfg.serviceName }))
    .merge(detectResources({ detectors: [resourceAttributesEnvDetector, serviceNameEnvDetector] }));
  // Always on: the export decision is taken at the end (sampling wrapper), never at the start.
  const provider = new TracerProvider({ resource, sampler: new AlwaysOnSampler(), spanProcessors: [sampling] });
  return { provider, sampling };
}
