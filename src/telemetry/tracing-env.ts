/**
 * The one `OTEL_*` variable Sightline reads itself. Everything else (exporters, protocol,
 * endpoints, resource, batch queue) is the OpenTelemetry SDK's (tracing-sdk.ts), which runs with
 * an always-on sampler because the export decision is Sightline's (tracing-sampling.ts):
 * abnormal closes are always exported, and `OTEL_TRACES_SAMPLER[_ARG]` sets the ratio of NORMAL
 * ones kept (`traceidratio` / `parentbased_traceidratio` with their argument, `always_off` /
 * `parentbased_always_off` = 0, anything else = 1).
 */

export type Env = Readonly<Record<string, string | undefined>>;

const str = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

/** The ratio of normal connections exported, from OTEL_TRACES_SAMPLER / _ARG; 1 by default. */
export function normalRatioFromEnv(env: Env = process.env): number {
  const sampler = str(env, 'OTEL_TRACES_SAMPLER')?.toLowerCase();
  if (sampler === 'always_off' || sampler === 'parentbased_always_off') return 0;
  if (sampler !== 'traceidratio' && sampler !== 'parentbased_traceidratio') return 1;
  const arg = str(env, 'OTEL_TRACES_SAMPLER_ARG');
  const v = arg === undefined ? 1 : Number(arg);
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 1;
}
