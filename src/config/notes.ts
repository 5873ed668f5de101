/**
 * Advice on a valid configuration: settings that are accepted but cannot take effect where they
 * are, said once at `check` and at start instead of silently ignored.
 */
import type { ResolvedOptions } from './schema.js';
import { tlsMaterialOf } from './tls-material.js';

/** Certificates ending within this window are worth a warning at every check and reload. */
const EXPIRY_WARNING_MS = 14 * 86_400_000;

export function configNotes(o: ResolvedOptions, now = Date.now()): string[] {
  const notes: string[] = [];
  o.routes.forEach((r, i) => {
    const m = r.action.tls === undefined ? undefined : tlsMaterialOf(r.action.tls);
    if (m?.notAfter !== undefined) {
      const key = `routes[${i}].action.tls.certificate`;
      const end = new Date(m.notAfter).toISOString();
      if (m.notAfter <= now)
        notes.push(
          `warning: ${key} "${r.name}": the certificate (${m.subject ?? ''}) expired on ${end}; clients will refuse it`,
        );
      else if (m.notAfter - now < EXPIRY_WARNING_MS)
        notes.push(`warning: ${key} "${r.name}": the certificate (${m.subject ?? ''}) expires on ${end}`);
    }
    const mode = r.action.tls?.mode;
    const terminated = mode === 'terminate' || mode === 'terminate-and-reencrypt';
    const http =
      r.action.protocol ?? (terminated || r.match.path !== undefined || r.match.headers !== undefined ? 'http' : 'tcp');
    if (r.action.websocket !== undefined && http !== 'http') {
      const why =
        mode === 'passthrough'
          ? 'a passthrough route cannot read WebSocket frames (they stay encrypted)'
          : 'the route is a byte tunnel (protocol tcp)';
      notes.push(
        `routes[${i}] "${r.name}": action.websocket has no effect: ${why}; its liveness rests on TCP keep-alive and the idle timeout, never on a heartbeat`,
      );
    }
  });
  return notes;
}
