/**
 * Which closes feed the disconnect-pattern detector, and as what sample: one rule shared by the
 * in-process telemetry and the cluster workers that batch their closes to the primary's detector.
 * Rejections never became connections, unrouted closes have no route to blame, and drain closes
 * (`shutdown`, `admin_closed`) are the proxy leaving on purpose: none of them is a disconnect
 * pattern (`feedsPatterns` in core/close-reason-table.ts).
 */
import type { CloseEvent } from '../core/channels.js';
import { closeReasonInfo, feedsPatterns } from '../core/close-reason-table.js';
import type { CloseSample } from './pattern-types.js';

export function patternSampleOf(e: CloseEvent, at: number): CloseSample | null {
  const route = e.conn.routeName;
  const info = closeReasonInfo(e.reason);
  if (route === null || (info !== undefined && !feedsPatterns(info))) return null;
  return {
    route,
    at,
    durationMs: e.durationMs,
    idleAtCloseMs: e.idleAtCloseMs,
    initiator: e.initiator,
    local: e.endKind === 'local',
    reason: e.reason,
  };
}
