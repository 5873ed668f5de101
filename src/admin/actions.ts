/**
 * Admin actions (issue 14): the routes that change something, as opposed to the read-only views
 * of handler.ts. One so far: `POST /api/connections/:id/close` closes one connection, recorded as
 * `admin_closed`.
 *
 * Actions need a configured token, always: an admin API without one answers reads on loopback
 * (a developer's laptop), but letting any local process or DNS-rebound page cut production
 * connections is another matter, so without `admin.token` / `admin.tokenFile` they are 403.
 */
import type { IncomingMessage } from 'node:http';
import { bearerOf, WWW_AUTHENTICATE, type Authorizer } from './auth.js';
import { error, json, type Reply } from './respond.js';
import type { AdminSource } from './source.js';

const CLOSE_PATH = /^\/api\/connections\/([^/?]*)\/close$/;
const DECIMAL = /^[0-9]{1,15}$/;
/** A Sightline unique id (core/unique-id.ts), or any id a previous build may have handed out. */
const UNIQUE = /^[0-9a-f]{16,64}$/;

export const NO_TOKEN_ERROR =
  'admin actions need a token: configure admin.token or admin.tokenFile (refused even on loopback)';

/** The action a path names, or null when it names none (the read-only routes then answer). */
export function actionFor(path: string): ((source: AdminSource) => Promise<Reply>) | null {
  const m = CLOSE_PATH.exec(path);
  if (m === null) return null;
  // Ids are digits or hex: a '%' escape can only be a mistake (and a bad one must not throw).
  const raw = m[1]!;
  return async (source) => {
    const id = DECIMAL.test(raw) ? Number(raw) : UNIQUE.test(raw) ? raw : null;
    if (id === null)
      return error(
        400,
        `connection id must be the numeric id or the uniqueId, got ${JSON.stringify(raw.slice(0, 80))}`,
      );
    const r = await source.closeConnection(id);
    return r.ok
      ? json(200, { closed: true, reason: 'admin_closed', connection: r.connection })
      : error(r.status, r.error);
  };
}

/** Token and method checks of an action; null when it may run. */
export function refuseAction(req: IncomingMessage, auth: Authorizer): Reply | null {
  if (!auth.required) return error(403, NO_TOKEN_ERROR);
  if (!auth.check(bearerOf(req)))
    return error(401, 'missing or invalid bearer token', { 'WWW-Authenticate': WWW_AUTHENTICATE });
  if (req.method !== 'POST') return error(405, `method ${req.method ?? ''} not allowed`, { Allow: 'POST' });
  return null;
}
