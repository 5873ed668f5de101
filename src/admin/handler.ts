/**
 * The admin routes (DESIGN §5): GET/HEAD only (the POST actions are in actions.ts), JSON errors `{ error }`, bearer token on
 * everything but `/healthz` and `/readyz`. The status page accepts the token as `?token=` too (a
 * browser cannot set the header on navigation); its script then sends it as a header. The page's
 * scripts and stylesheets (its own and uPlot's, vendor.ts) are public: they are fixed code with no
 * data in them, and a browser loads them without the header. A throwing source is a 500, never a crash.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { actionFor, refuseAction } from './actions.js';
import { bearerOf, WWW_AUTHENTICATE, type Authorizer } from './auth.js';
import { parseConnectionId, parseConnectionQuery, parseRecentClosesQuery } from './query.js';
import { error, json, PAGE_CSP, send, type Reply } from './respond.js';
import type { AdminSource } from './source.js';
import { STATUS_CSS, STATUS_HTML } from './status-page.js';
import { STATUS_CHARTS_JS } from './status-charts.js';
import { STATUS_JS } from './status-script.js';
import { VENDOR_PATHS, vendorAsset } from './vendor.js';

/** Who may call a route: anyone, token holders, or token holders who may pass it in the URL. */
type Access = 'open' | 'token' | 'token-or-query';

interface Route {
  readonly access: Access;
  handle(params: URLSearchParams, req: IncomingMessage): Reply | Promise<Reply>;
}

const OPENMETRICS = /application\/openmetrics-text/i;
const ALLOW = 'GET, HEAD';

const asset = (contentType: string, body: string, headers?: Readonly<Record<string, string>>): Reply =>
  headers ? { status: 200, contentType, body, headers } : { status: 200, contentType, body };

function routesOf(source: AdminSource): ReadonlyMap<string, Route> {
  return new Map<string, Route>([
    [
      '/metrics',
      {
        access: 'token',
        handle: async (_p, req) => {
          const m = await source.metrics(OPENMETRICS.test(req.headers.accept ?? ''));
          return { status: 200, contentType: m.contentType, body: m.body };
        },
      },
    ],
    [
      '/healthz',
      {
        access: 'open',
        handle: () => (source.health().live ? json(200, { status: 'ok' }) : json(503, { status: 'down' })),
      },
    ],
    [
      '/readyz',
      {
        access: 'open',
        handle: () => {
          const h = source.health();
          return json(h.ready ? 200 : 503, {
            live: h.live,
            ready: h.ready,
            draining: h.draining,
            ...(h.exhausted != null ? { exhausted: h.exhausted } : {}),
          });
        },
      },
    ],
    ['/api/stats', { access: 'token', handle: async () => json(200, await source.stats()) }],
    ['/api/routes', { access: 'token', handle: async () => json(200, { routes: await source.routes() }) }],
    ['/api/patterns', { access: 'token', handle: () => json(200, { patterns: source.patterns() }) }],
    ['/api/closes', { access: 'token', handle: async () => json(200, await source.recentCloses()) }],
    [
      '/api/close-ages',
      {
        access: 'token',
        handle: async (params) => json(200, await source.closeAges(params.get('route') || undefined)),
      },
    ],
    ['/api/open-ages', { access: 'token', handle: async () => json(200, await source.openAges()) }],
    [
      '/api/recent-closes',
      {
        access: 'token',
        handle: async (params) => {
          const q = parseRecentClosesQuery(params);
          return q.ok ? json(200, { items: await source.closeRecords(q.value) }) : error(400, q.error);
        },
      },
    ],
    [
      '/api/connection',
      {
        access: 'token',
        handle: async (params) => {
          const q = parseConnectionId(params);
          if (!q.ok) return error(400, q.error);
          const d = await source.connection(q.value);
          return d === null
            ? error(404, `connection ${q.value} is neither open nor among the recent closes`)
            : json(200, d);
        },
      },
    ],
    [
      '/api/connections',
      {
        access: 'token',
        handle: async (params) => {
          const q = parseConnectionQuery(params);
          return q.ok ? json(200, await source.connections(q.value)) : error(400, q.error);
        },
      },
    ],
    [
      '/',
      {
        access: 'token-or-query',
        handle: () => asset('text/html; charset=utf-8', STATUS_HTML, { 'Content-Security-Policy': PAGE_CSP }),
      },
    ],
    ['/status.js', { access: 'open', handle: () => asset('text/javascript; charset=utf-8', STATUS_JS) }],
    ['/status-charts.js', { access: 'open', handle: () => asset('text/javascript; charset=utf-8', STATUS_CHARTS_JS) }],
    ['/status.css', { access: 'open', handle: () => asset('text/css; charset=utf-8', STATUS_CSS) }],
    ...VENDOR_PATHS.map((path): [string, Route] => [
      path,
      { access: 'open', handle: () => asset(vendorAsset(path).contentType, vendorAsset(path).body) },
    ]),
  ]);
}

export interface AdminHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Requests that failed inside the source (answered 500). */
  readonly errors: number;
}

export function createHandler(source: AdminSource, auth: Authorizer): AdminHandler {
  const routes = routesOf(source);
  let errors = 0;

  const decide = async (req: IncomingMessage): Promise<Reply> => {
    const target = req.url ?? '';
    if (!target.startsWith('/')) return error(400, 'request target must be a path');
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
    // Actions (POST, token always required) first: see actions.ts.
    const action = actionFor(path);
    if (action !== null) return refuseAction(req, auth) ?? action(source);
    const route = routes.get(path);
    // Without the token nothing but the open routes answers, not even a 404.
    if (route?.access !== 'open' && auth.required) {
      const given =
        bearerOf(req) ?? (route?.access === 'token-or-query' ? (params.get('token') ?? undefined) : undefined);
      if (!auth.check(given))
        return error(401, 'missing or invalid bearer token', { 'WWW-Authenticate': WWW_AUTHENTICATE });
    }
    if (route === undefined) return error(404, `no such endpoint: ${path.slice(0, 100)}`);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return error(405, `method ${req.method ?? ''} not allowed`, { Allow: ALLOW });
    return route.handle(params, req);
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    decide(req)
      .catch((err: unknown) => {
        errors++;
        return error(500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
      })
      .then((reply) => {
        if (!res.headersSent && !res.destroyed) send(res, reply);
      })
      // Only writing can fail here (e.g. a source's content type that is not a valid header).
      .catch(() => res.destroy());
  };
  Object.defineProperty(handler, 'errors', { get: () => errors, enumerable: true });
  return handler as AdminHandler;
}
