/**
 * Advice on a valid configuration: settings that are accepted but cannot take effect where they
 * are, said once at `check` and at start instead of silently ignored.
 */
import type { ResolvedOptions } from './schema.js';

export function configNotes(o: ResolvedOptions): string[] {
  const notes: string[] = [];
  o.routes.forEach((r, i) => {
    const mode = r.action.tls?.mode;
    const terminated = mode === 'terminate' || mode === 'terminate-and-reencrypt';
    const http = r.action.protocol ?? (terminated || r.match.path !== undefined || r.match.headers !== undefined ? 'http' : 'tcp');
    if (r.action.websocket !== undefined && http !== 'http') {
      const why = mode === 'passthrough' ? 'a passthrough route cannot read WebSocket frames (they stay encrypted)' : 'the route is a byte tunnel (protocol tcp)';
      notes.push(
        `routes[${i}] "${r.name}": action.websocket has no effect: ${why}; its liveness rests on TCP keep-alive and the idle timeout, never on a heartbeat`,
      );
    }
  });
  return notes;
}
