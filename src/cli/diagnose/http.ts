/**
 * The one HTTP client of `sightline diagnose`: GET with an optional bearer token and a deadline.
 * Every failure becomes a DiagnoseError with a one-line message naming the URL (exit code 2).
 */

export class DiagnoseError extends Error {
  override readonly name = 'DiagnoseError';
}

export interface HttpOptions {
  readonly token?: string | undefined;
  readonly timeoutMs: number;
  /** What the URL is, for messages: "the admin API", "Prometheus". */
  readonly what: string;
}

const CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
};

function causeOf(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return CODES[code] ? `${CODES[code]} (${code})` : code;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'no answer in time';
    e = e.cause;
  }
  return err instanceof Error ? err.message : String(err);
}

/** GET `url`; resolves with the body of a 2xx answer. */
export async function getText(url: URL, o: HttpOptions): Promise<{ body: string; contentType: string }> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: o.token === undefined ? {} : { authorization: `Bearer ${o.token}` },
      signal: AbortSignal.timeout(o.timeoutMs),
      redirect: 'follow',
    });
  } catch (err) {
    throw new DiagnoseError(`cannot reach ${o.what} at ${url.href}: ${causeOf(err)}`);
  }
  let body: string;
  try {
    body = await res.text();
  } catch (err) {
    throw new DiagnoseError(`reading the answer of ${o.what} at ${url.href} failed: ${causeOf(err)}`);
  }
  if (res.status === 401 || res.status === 403) {
    throw new DiagnoseError(
      `${o.what} at ${url.href} answered ${res.status}: ${o.token === undefined ? 'it needs a bearer token (pass --token)' : 'the token was refused (check --token)'}`,
    );
  }
  if (res.status < 200 || res.status > 299) {
    throw new DiagnoseError(`${o.what} at ${url.href} answered HTTP ${res.status}${snippet(body)}`);
  }
  return { body, contentType: res.headers.get('content-type') ?? '' };
}

export async function getJson(url: URL, o: HttpOptions): Promise<unknown> {
  const { body } = await getText(url, o);
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new DiagnoseError(`${o.what} at ${url.href} did not answer JSON${snippet(body)}`);
  }
}

function snippet(body: string): string {
  const s = body.replace(/\s+/g, ' ').trim().slice(0, 120);
  return s === '' ? '' : `: ${s}`;
}

/** `base` with a trailing slash, so relative paths resolve under it (`/prefix/` + `api/...`). */
export function baseUrl(raw: string, flag: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new DiagnoseError(`${flag} ${JSON.stringify(raw)} is not a URL (expected e.g. http://127.0.0.1:9464/)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new DiagnoseError(`${flag} must be an http:// or https:// URL, not ${u.protocol}`);
  u.search = '';
  u.hash = '';
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u;
}
