/**
 * `sightline diagnose --admin URL | --prometheus URL`: read what a running Sightline knows about
 * its closes and explain, per route, any disconnect pattern. Exit codes (DESIGN §5): 0 healthy,
 * 1 a pattern is present, 2 bad usage or an unreachable / unusable URL.
 */
import { analyse } from './analyse.js';
import { factsFromAdmin } from './from-admin.js';
import { WINDOW_RE, factsFromPrometheus } from './from-prometheus.js';
import { DiagnoseError, baseUrl } from './http.js';
import { renderJson, renderText } from './render.js';

export interface DiagnoseOptions {
  readonly admin?: string;
  readonly prometheus?: string;
  readonly token?: string;
  readonly json?: boolean;
  /** Prometheus range for the counts, e.g. "1h". */
  readonly window?: string;
  /** Prometheus label matchers added to every selector, e.g. `job="sightline"`. */
  readonly selector?: string;
  /** Seconds to wait for each HTTP answer. */
  readonly timeout?: string;
}

export interface DiagnoseIo {
  write(s: string): unknown;
  error(s: string): unknown;
}

const USAGE = 'usage: sightline diagnose --admin URL [--token T] | --prometheus URL [--window 1h]';

export async function runDiagnose(o: DiagnoseOptions, io: DiagnoseIo): Promise<number> {
  try {
    if ((o.admin === undefined) === (o.prometheus === undefined)) {
      throw new DiagnoseError(`give exactly one of --admin or --prometheus (${USAGE})`);
    }
    const timeoutS = o.timeout === undefined ? 5 : Number(o.timeout);
    if (!(timeoutS > 0) || !Number.isFinite(timeoutS))
      throw new DiagnoseError(`--timeout must be a number of seconds above 0, not ${JSON.stringify(o.timeout)}`);
    const http = { token: o.token, timeoutMs: Math.round(timeoutS * 1000) };
    let facts;
    if (o.admin !== undefined) {
      if (o.window !== undefined || o.selector !== undefined)
        throw new DiagnoseError(
          '--window and --selector apply to --prometheus only (the admin API counts since the proxy started)',
        );
      facts = await factsFromAdmin(baseUrl(o.admin, '--admin'), http);
    } else {
      const window = o.window ?? '1h';
      if (!WINDOW_RE.test(window))
        throw new DiagnoseError(
          `--window must be a Prometheus duration such as 15m, 1h or 1d, not ${JSON.stringify(window)}`,
        );
      facts = await factsFromPrometheus(baseUrl(o.prometheus!, '--prometheus'), window, o.selector ?? '', http);
    }
    const report = analyse(facts);
    io.write(o.json === true ? renderJson(report) : renderText(report));
    return report.exitCode;
  } catch (err) {
    if (err instanceof DiagnoseError) {
      io.error(`sightline diagnose: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
